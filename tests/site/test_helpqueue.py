"""The help queue: ask, place in the queue, claim (one winner), resolve, hand back, figures."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpqueue import selectors, services
from helpqueue.models import HelpRequest
from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db


def _event_with_mentors(slug: str = "help-hack"):
    event = hackathon(slug)
    mentors = [make_user(f"{slug}-mentor{i}") for i in range(2)]
    for mentor in mentors:
        event.roles.create(user=mentor, role="mentor")
    return event, mentors


def test_askers_see_their_place_and_a_handed_back_question_keeps_it():
    event, (mia, _) = _event_with_mentors()
    ana, bo, cy = registered(event, "ana", "bo", "cy")
    first = services.ask(event, ana, "Wrong sums", "Table 3")
    second = services.ask(event, bo, "Kernel hangs", "Table 9", "https://hub/lab/tree/x.ipynb")
    third = services.ask(event, cy, "Shared memory", "Room B")
    with pytest.raises(services.HelpError, match="already have a question"):
        services.ask(event, ana, "Again", "Table 3")
    assert [selectors.place_in_queue(r) for r in (first, second, third)] == [1, 2, 3]

    services.claim(first, mia)
    assert selectors.place_in_queue(first) is None
    assert [selectors.place_in_queue(r) for r in (second, third)] == [1, 2]
    services.hand_back(first, mia)
    assert first.status == "waiting" and first.handed_back == 1
    assert selectors.place_in_queue(first) == 1  # back at its old place, ahead of the others
    services.claim(first, mia)
    services.resolve(first, mia)
    assert first.status == "resolved"
    # Only the mentor holding a question closes it; a closed one cannot be taken back.
    services.claim(second, mia)
    other = event.roles.get(role="mentor", user__username="help-hack-mentor1").user
    with pytest.raises(services.HelpError, match="not yours"):
        services.resolve(second, other)
    services.withdraw(third, cy)
    with pytest.raises(services.HelpError, match="already closed"):
        services.withdraw(third, cy)
    # Once closed, the asker may ask again.
    assert services.ask(event, ana, "Next one", "Table 3").status == "waiting"


@pytest.mark.django_db(transaction=True)
def test_two_mentors_claiming_at_once_one_wins():
    event, mentors = _event_with_mentors("race-hack")
    (asker,) = registered(event, "racer")
    for round_ in range(5):
        request = services.ask(event, asker, f"Question {round_}", "Table 1")
        results: list[str] = []
        barrier = threading.Barrier(len(mentors))

        def attempt(mentor, request=request, results=results, barrier=barrier):
            barrier.wait()
            try:
                services.claim(HelpRequest.objects.get(pk=request.pk), mentor)
                results.append(mentor.username)
            except services.HelpError:
                results.append("lost")
            finally:
                close_old_connections()

        threads = [threading.Thread(target=attempt, args=(m,)) for m in mentors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        request.refresh_from_db()
        assert results.count("lost") == 1, results
        winner = next(r for r in results if r != "lost")
        assert request.status == "claimed" and request.claimed_by.username == winner
        services.resolve(request, request.claimed_by)


def test_wait_and_resolution_figures_median_and_p90():
    event, (mia, _) = _event_with_mentors("figures-hack")
    askers = registered(event, *[f"f{i}" for i in range(10)])
    start = timezone.now() - timedelta(hours=2)
    for i, asker in enumerate(askers):
        # Waits of 1..10 minutes; resolved 5 minutes after the claim, but the last two are
        # still being helped.
        asked = start + timedelta(minutes=10 * i)
        claimed = asked + timedelta(minutes=i + 1)
        HelpRequest.objects.create(
            event=event,
            asker=asker,
            topic="t",
            location="l",
            created_at=asked,
            status="resolved" if i < 8 else "claimed",
            claimed_by=mia,
            first_claimed_at=claimed,
            resolved_at=claimed + timedelta(minutes=5) if i < 8 else None,
        )
    figures = selectors.figures(event)
    assert figures.wait_median_s == 5 * 60 and figures.wait_p90_s == 9 * 60
    assert figures.resolution_median_s == (4 + 5) * 60  # waits 1..8 min, + 5 min each
    assert figures.resolution_p90_s == (8 + 5) * 60
    assert figures.resolved == 8 and figures.being_helped == 2 and figures.waiting == 0
    assert selectors.percentile([], 0.5) is None


def test_pages_and_json_for_asker_and_mentor():
    event, (mia, ned) = _event_with_mentors("pages-hack")
    (ana,) = registered(event, "pages-ana")
    asker, mentor = Client(), Client()
    asker.force_login(ana)
    mentor.force_login(mia)
    home = reverse("help-home", args=["event", event.slug])
    response = asker.post(home, {"topic": "<b>CUDA</b> error", "location": "Table 4"}, follow=True)
    page = response.content.decode()
    assert 'id="my-place">1<' in page and "&lt;b&gt;CUDA&lt;/b&gt;" in page
    request = HelpRequest.objects.get(asker=ana)
    data = asker.get(reverse("help-request-json", args=[request.pk])).json()
    assert data["place"] == 1 and data["status"] == "waiting"

    queue = mentor.get(reverse("help-queue-json", args=["event", event.slug])).json()
    assert [r["topic"] for r in queue["requests"]] == ["<b>CUDA</b> error"]
    claim = reverse("help-action", args=[request.pk, "claim"])
    answer = mentor.post(claim, HTTP_ACCEPT="application/json")
    assert answer.json() == {"ok": True, "message": ""}
    other = Client()
    other.force_login(ned)
    late = other.post(claim, HTTP_ACCEPT="application/json")
    assert late.status_code == 409 and "already taken" in late.json()["message"]
    assert asker.get(reverse("help-request-json", args=[request.pk])).json()["claimed_by"] == (
        mia.username
    )
    page = mentor.get(reverse("help-queue", args=["event", event.slug])).content.decode()
    assert 'class="resolve"' in page and 'id="fig-waiting">0<' in page
    # The asker cannot claim, and cannot withdraw someone else's question.
    assert asker.post(claim).status_code == 403
    (bo,) = registered(event, "pages-bo")
    nosy = Client()
    nosy.force_login(bo)
    assert nosy.post(reverse("help-action", args=[request.pk, "withdraw"])).status_code == 403
    assert nosy.get(reverse("help-request-json", args=[request.pk])).status_code == 403
    mentor.post(reverse("help-action", args=[request.pk, "resolve"]))
    request.refresh_from_db()
    assert request.status == "resolved"


def test_a_cohort_has_a_queue_for_its_students_and_teaching_staff(published, people):
    cohort = published["cohort"]
    student, ta = Client(), Client()
    student.force_login(people["student"])
    ta.force_login(people["ta"])
    home = reverse("help-home", args=["cohort", cohort.pk])
    student.post(home, {"topic": "Assignment 2", "location": "Lab 1"})
    queue = ta.get(reverse("help-queue-json", args=["cohort", cohort.pk])).json()
    assert [r["asker"] for r in queue["requests"]] == [people["student"].username]
    assert ta.get(home).status_code == 403  # TAs answer, they do not ask
    assert student.get(reverse("help-queue", args=["cohort", cohort.pk])).status_code == 403
    assert student.get(reverse("help-home", args=["cohort", "nope"])).status_code == 404


COHORT_ROLES = ["anonymous", "outsider", "student", "ta", "instructor", "staff"]
L, D, K = "login", "denied", "ok"
COHORT_MATRIX = {
    "help-home": ("get", [L, D, K, D, D, K]),
    "help-queue": ("get", [L, D, D, K, K, K]),
    "help-queue-json": ("get", [L, D, D, K, K, K]),
    "help-request-json": ("get", [L, D, K, K, K, K]),  # the student asked it
    "help-action": ("post", [L, D, D, K, K, K]),  # claim
}


@pytest.mark.parametrize("name", sorted(COHORT_MATRIX))
def test_cohort_queue_by_course_role(name, published, people):
    from tests.site.test_permission_matrix import outcome

    cohort = published["cohort"]
    request = services.ask(cohort, people["student"], "Help", "Lab")
    args = {"help-request-json": [request.pk], "help-action": [request.pk, "claim"]}
    url = reverse(name, args=args.get(name, ["cohort", cohort.pk]))
    method, expected = COHORT_MATRIX[name]
    for role, want in zip(COHORT_ROLES, expected, strict=True):
        client = Client()
        if role != "anonymous":
            client.force_login(people[role])
        response = client.post(url) if method == "post" else client.get(url)
        assert outcome(response) == want, f"{name} as {role}: {response.status_code}"
