"""The ledger's one charge formula and state changes, the one way GPU time is written (pages and
CSV alike), and pages that show sessions without writing to the database."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compute import ledger
from compute.backends import JupyterHubBackend, SessionBackend
from compute.figures import gpu_time
from compute.hub import ServerState
from compute.models import HubSession

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (12, "12 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),
        (240, "4 min"),
        (3569, "59 min"),
        (3576, "1.00 h"),
        (4500, "1.25 h"),
        (9.996 * 3600, "10.0 h"),
        (37.5 * 3600, "37.5 h"),
        (250 * 3600, "250 h"),
        (None, "0 s"),
    ],
)
def test_gpu_time_minutes_for_short_hours_for_long(seconds, shown):
    assert gpu_time(seconds) == shown


def _session(student, profile, minutes: float, **fields) -> HubSession:
    started = timezone.now() - timedelta(minutes=minutes)
    session = HubSession.objects.create(
        user=student,
        profile=profile,
        hub_username="stud",
        status="running",
        started_at=started,
        cost_weight=profile.cost_weight,
        **fields,
    )
    ledger.close(session, "user", started + timedelta(minutes=minutes))
    return session


def test_a_four_minute_session_shows_the_same_figure_on_every_page_and_in_csv(
    student, granted, cohort
):
    session = _session(student, granted, 4)  # the simulator: 0.05 GPU-hours per hour
    assert session.charged_seconds == pytest.approx(12)
    client = Client()
    client.force_login(student)
    sessions_page = client.get(reverse("sessions")).content.decode()
    usage_page = client.get(reverse("session-usage")).content.decode()
    for page in (sessions_page, usage_page):
        assert '<td class="duration">4 min</td>' in page
        assert '<td class="charged">12 s</td>' in page
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("session-usage-csv")).content.decode()))
    )
    assert rows[0]["duration"] == "4 min" and rows[0]["gpu_time"] == "12 s"
    assert float(rows[0]["gpu_seconds"]) == pytest.approx(12)

    teacher = Client()
    teacher.force_login(cohort.course.staff.first().user)
    page = teacher.get(reverse("cohort-gpu-usage", args=[cohort.pk])).content.decode()
    assert '<td class="charged">12 s</td>' in page and "Total GPU time charged: 12 s." in page
    body = teacher.get(reverse("cohort-gpu-usage-csv", args=[cohort.pk])).content.decode()
    assert list(csv.DictReader(io.StringIO(body))) == [
        {"student": "stud", "gpu_time": "12 s", "gpu_seconds": "12.0"}
    ]


def test_the_charge_runs_from_the_hubs_start_to_the_stop_request(student, granted):
    session = ledger.open_session(student, granted, "stud", None)
    assert session.status == HubSession.Status.STARTING
    with pytest.raises(ledger.AlreadyActive):
        ledger.open_session(student, granted, "stud", None)
    spawn_began = timezone.now() - timedelta(minutes=30)
    state_started = spawn_began.isoformat().replace("+00:00", "Z")
    assert ledger.mark_running(session, state_started, delivered=["tiny/add.ipynb"])
    assert not ledger.mark_running(session, state_started)  # only the first caller wins
    assert session.started_at == spawn_began and session.delivered == ["tiny/add.ipynb"]
    stop_asked = spawn_began + timedelta(minutes=20)
    assert ledger.request_stop(session, "user", stop_asked)
    # Stopping no longer counts as the user's session: a new launch may open meanwhile.
    second = ledger.open_session(student, granted, "stud", None)
    ledger.close(session, "gone", stop_asked + timedelta(minutes=5))  # the hub let it go later
    assert session.status == HubSession.Status.STOPPED and session.stop_reason == "user"
    assert session.stopped_at == stop_asked
    assert session.charged_seconds == pytest.approx(20 * 60 * granted.cost_weight)
    assert ledger.live_charge(session) == session.charged_seconds
    ledger.fail(second, "the hub gave up")
    assert second.status == HubSession.Status.FAILED and ledger.live_charge(second) == 0


def test_adopted_servers_are_charged_from_the_hubs_start(student, granted):
    started = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    state = ServerState(exists=True, ready=True, started=started.isoformat())
    row = ledger.adopt(student, "stud", granted, state)
    assert row.origin == HubSession.Origin.HUB and row.started_at == started
    assert ledger.live_charge(row) == pytest.approx(3600 * granted.cost_weight, rel=0.01)


def test_pages_that_show_sessions_never_write(student, granted, hub_settings, settings):
    # A starting row the real hub has no server for: a page that "refreshed" it would fail it.
    settings.KC_SPAWN_TIMEOUT_S = 1
    session = HubSession.objects.create(
        user=student,
        profile=granted,
        hub_username="stud",
        requested_at=timezone.now() - timedelta(minutes=5),
    )
    client = Client()
    client.force_login(student)
    urls = [
        reverse("sessions"),
        reverse("session-status", args=[session.pk]),
        reverse("session-events", args=[session.pk]),
        reverse("session-usage"),
        reverse("session-usage-csv"),
    ]
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200
            if response.streaming:
                b"".join(response.streaming_content)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "compute_hubsession" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert not writes
    session.refresh_from_db()
    assert session.status == HubSession.Status.STARTING


def test_the_session_backend_is_an_abstract_base_class():
    class Partial(SessionBackend):
        def configured(self) -> bool:
            return True

    with pytest.raises(TypeError, match="abstract"):
        Partial()
    assert issubclass(JupyterHubBackend, SessionBackend)
