"""A hackathon's people in real browsers. The whole event: the organizer opens registration from
the schedule form, two people register and form a team, a member sees the team's GPU budget on
the launch page and is stopped at the team's limit, the team submits, the judge scores, the
organizer publishes and exports the CSV. And the help queue with two browsers at once: a
participant asks, the mentor's open queue shows it without a reload, the mentor claims and the
participant's page says who is coming, the mentor resolves.

Screenshots in English and Korean at 390 and 1440 px: test-artifacts/screenshots/hackathon/.
(The session launch itself is tested through the real hub in tests/compute.)"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import requests

from tests.browser.conftest import ARTIFACTS_DIR, Site, start_chromium
from tests.browser.shots import shoot_widths

SHOTS = ARTIFACTS_DIR / "hackathon"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(site, name: str) -> None:
    shoot_widths(site, SHOTS, name)


def sign_in_as(site, username: str) -> None:
    site.driver.delete_all_cookies()
    site.log_in(username)


def in_korean(site, username: str) -> None:
    from accounts.models import User

    User.objects.filter(username=username).update(language="ko")
    sign_in_as(site, username)


def test_open_register_team_budget_submit_judge_publish_export(site, settings, tmp_path):
    from django.utils import timezone

    from compute.defaults import ensure_default_profiles
    from compute.models import Allocation, GpuProfile, HubSession, ProfileGrant
    from judging.models import Criterion, JudgeAssignment
    from judging.services import assign_judges
    from tests.site.factories import make_user
    from tests.site.hackathon import hackathon

    # The hub is configured (its address never answers): every refusal below is the budget's.
    settings.KC_HUB_URL = "http://127.0.0.1:9"
    settings.KC_HUB_API_TOKEN = "not-a-real-token-0123456789"
    event = hackathon("journey-hack")
    registration = event.phases.get(kind="registration")
    registration.starts_at = timezone.now() + timedelta(days=1)  # closed until the organizer
    registration.ends_at = timezone.now() + timedelta(days=2)
    registration.save()
    organizer, judge = make_user("organizer"), make_user("judge")
    make_user("ana")
    make_user("ben")
    event.roles.create(user=organizer, role="organizer")
    event.roles.create(user=judge, role="judge")
    Criterion.objects.create(event=event, name="Speed-up", weight=3, max_points=10)
    ensure_default_profiles()
    ProfileGrant.objects.create(profile=GpuProfile.objects.get(slug="gpu-1"), event=event)
    Allocation.objects.create(
        organization=event.organization, event=event, gpu_hours=10, per_team_gpu_hours=2
    )

    # The organizer opens registration from the schedule form, in the event's time zone.
    sign_in_as(site, "organizer")
    site.open(f"/events/{event.slug}/manage/")
    now_there = timezone.localtime(timezone.now(), event.zone)
    site.set_value("phase-registration_starts", f"{now_there - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    site.set_value("phase-registration_ends", f"{now_there + timedelta(days=1):%Y-%m-%dT%H:%M}")
    site.click("#schedule-form button")
    site.text_in(".messages", "The schedule is saved.")
    shoot(site, "manage-en")

    # Two people register; one makes a team, the other joins it with its code.
    sign_in_as(site, "ana")
    site.open(f"/events/{event.slug}/register/")
    site.click("#register-form button")
    site.path_is(rf"/events/{event.slug}/teams/")
    site.fill({"name": "Warp Drive"})
    site.click("#create-team button")
    code = site.find("#team-code").text.strip()
    sign_in_as(site, "ben")
    site.open(f"/events/{event.slug}/register/")
    site.click("#register-form button")
    site.fill({"code": code})
    site.click("#join-team button")
    site.text_in("#my-team", "Warp Drive")

    # The launch page offers the team's budget (ben has no hours of his own) and what is left.
    site.open("/sessions/")
    team = event.teams.get()
    assert site.find(f"#charge-to input[value='{team.pk}']").is_selected()
    site.text_in(f".team-budget[data-team='{team.pk}']", "2.00 h left")
    shoot(site, "sessions-en")
    # Ana's earlier sessions used the team's two hours: the launch is refused, nothing starts.
    started = timezone.now() - timedelta(hours=2)
    HubSession.objects.create(
        user=event.registrations.get(user__username="ana").user,
        profile=GpuProfile.objects.get(slug="gpu-1"),
        hub_username="ana",
        team=team,
        event=event,
        status="stopped",
        started_at=started,
        stopped_at=timezone.now(),
        charged_seconds=2 * 3600,
    )
    site.open("/sessions/")
    site.click("#launch")
    site.text_in(".messages", "team's GPU-hour budget is used up")
    assert not HubSession.objects.filter(user__username="ben").exists()
    in_korean(site, "ben")
    site.open("/sessions/")
    shoot(site, "sessions-ko")

    # The team submits its project; the organizer assigns the judge, who scores it.
    sign_in_as(site, "ana")
    site.open(f"/teams/{team.pk}/project/")
    notebook = tmp_path / "kernel.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    site.fill({"title": "Tiled matmul", "description": "Shared-memory tiles."})
    site.find("#p-file").send_keys(str(notebook))
    site.click("#project-form button")
    site.text_in("#project-as-judged", "Tiled matmul")
    assign_judges(event, 1)
    sign_in_as(site, "judge")
    site.open(f"/events/{event.slug}/judging/")
    site.click_element(site.find("#judge-assignments a"))
    site.fill({f"c{Criterion.objects.get().pk}": "8", "comment": "Fast."})
    site.click("#score-form button")
    site.text_in("#judge-assignments", "scored")
    assert JudgeAssignment.objects.get().completed_at is not None

    # The organizer sees GPU use on the dashboard, publishes, and exports the results.
    sign_in_as(site, "organizer")
    site.open(f"/events/{event.slug}/dashboard/")
    site.text_in("#gpu-card", "2.00 h of 10.0 h")
    shoot(site, "dashboard-en")
    site.open(f"/events/{event.slug}/judging/manage/")
    site.click("#publish-results")
    site.find("#results-published")
    site.open(f"/events/{event.slug}/results/")
    site.text_in("#results", "Tiled matmul")
    shoot(site, "results-en")
    cookies = {c["name"]: c["value"] for c in site.driver.get_cookies()}
    exported = requests.get(
        f"{site.base_url}/events/{event.slug}/results.csv", cookies=cookies, timeout=30
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.status_code == 200 and len(rows) == 1
    assert "Tiled matmul" in exported.text and "Warp Drive" in exported.text
    in_korean(site, "organizer")
    for page, name in [("manage/", "manage-ko"), ("gpu/", "gpu-ko"), ("results/", "results-ko")]:
        site.open(f"/events/{event.slug}/{page}")
        shoot(site, name)
    site.open(f"/events/{event.slug}/gpu/")
    site.text_in(f"#team-budgets tr[data-team='{team.pk}'] .left", "0")


def test_help_queue_with_two_browsers(site, live_server, tmp_path_factory):
    from tests.site.factories import make_user
    from tests.site.hackathon import hackathon, registered

    event = hackathon("help-journey")
    mentor = make_user("mentor")
    event.roles.create(user=mentor, role="mentor")
    registered(event, "cara")

    # The mentor's queue is open in one browser before anyone asks.
    mentor_driver = start_chromium(tmp_path_factory.mktemp("mentor-profile"))
    try:
        desk = Site(mentor_driver, live_server.url)
        desk.log_in("mentor")
        desk.open(f"/help/event/{event.slug}/queue/")
        desk.text_in("#help-queue", "Nobody is waiting.")

        # The participant asks in the other and sees her place.
        sign_in_as(site, "cara")
        site.open(f"/events/{event.slug}/")
        site.click("#ask-for-help")
        site.fill({"topic": "My reduction gives the wrong sum", "location": "Table 12"})
        site.click("#ask")
        site.text_in("#my-place", "1")
        shoot(site, "help-asker-en")

        # Without a reload, the question reaches the mentor's queue; the mentor claims it and
        # the participant's page says who is on the way.
        desk.text_in("#help-queue", "My reduction gives the wrong sum")
        desk.find("#help-queue button.claim").click()
        desk.wait().until(lambda d: d.find_elements("css selector", "#help-queue button.resolve"))
        shoot(desk, "help-mentor-en")
        site.text_in("#my-helper", "mentor")
        shoot(site, "help-asker-claimed-en")

        # Resolved: the participant's page goes back to the form, the figures count it.
        desk.find("#help-queue button.resolve").click()
        desk.text_in("#help-queue", "Nobody is waiting.")
        site.find("#ask-form")
        in_korean(desk, "mentor")
        desk.open(f"/help/event/{event.slug}/queue/")
        desk.text_in("#fig-resolution", "p90")
        shoot(desk, "help-mentor-ko")
        in_korean(site, "cara")
        site.open(f"/help/event/{event.slug}/")
        shoot(site, "help-asker-ko")
    finally:
        mentor_driver.quit()
    from helpqueue.models import HelpRequest

    request = HelpRequest.objects.get()
    assert request.status == "resolved" and request.resolved_by == mentor
