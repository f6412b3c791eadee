"""The audit log: every consequential change is recorded with who, when, before and after;
staff read it on a page and export it as CSV."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from tests.site.factories import make_user

pytestmark = pytest.mark.django_db


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_grade_override_records_the_instructor_and_the_scores_before_and_after(published, people):
    from grading.services import override_grade, remove_override

    cohort, student, instructor = published["cohort"], people["student"], people["instructor"]
    override_grade(cohort, student, "add", 2.0, "partial credit", by=instructor)
    override_grade(cohort, student, "add", 3.0, "re-read: full marks", by=instructor)
    remove_override(cohort, student, "add", by=instructor)

    first, second = entries("grading.override")
    assert (first.actor, first.actor_label, first.subject) == (instructor, "inst", student)
    assert first.before is None
    assert first.after == {"assignment": "add", "score": 2.0, "comment": "partial credit"}
    assert second.before == {"score": 2.0, "comment": "partial credit"}
    assert second.after["score"] == 3.0
    (removed,) = entries("grading.override_removed")
    assert removed.before["score"] == 3.0 and removed.after is None


PER_DAY_POLICY = {
    "late_policy": "per_day",
    "penalty_percent_per_day": "20",
    "penalty_cap_percent": "60",
    "grace_hours": "0",
    "seat_limit": "10",
}


def test_a_late_policy_change_on_the_teaching_page_records_who_made_it(published, people):
    cohort = published["cohort"]
    response = signed_in(people["instructor"]).post(
        reverse("teach-policy", args=[cohort.pk]),
        PER_DAY_POLICY,
    )
    assert response.status_code == 302
    changed = [e for e in entries("learning.late_policy") if e.before is not None]
    assert len(changed) == 1
    (entry,) = changed
    assert entry.actor == people["instructor"]
    assert entry.before["late_policy"] == "none"
    assert entry.after["late_policy"] == "per_day"
    assert entry.after["penalty_percent_per_day"] == 20
    # Saving the same values again is not a change.
    signed_in(people["instructor"]).post(
        reverse("teach-policy", args=[cohort.pk]),
        PER_DAY_POLICY,
    )
    assert len([e for e in entries("learning.late_policy") if e.before is not None]) == 1


def test_extension_regrade_release_and_review_are_recorded(published, people):
    from datetime import timedelta

    from grading import services
    from learning.services.cohorts import grant_extension
    from tests.site.grading_helpers import held_review

    cohort, student, instructor = published["cohort"], people["student"], people["instructor"]
    due = timezone.now() + timedelta(days=3)
    grant_extension(cohort, student, "add", due, by=instructor, reason="ill")
    (extension,) = entries("learning.extension")
    assert extension.subject == student and extension.after["reason"] == "ill"

    review = held_review(cohort, student)
    services.decide_review(review, "released", "fine after all", by=instructor)
    (decided,) = entries("grading.review_decided")
    assert decided.after["decision"] == "released" and decided.after["score"] == 3.0

    services.regrade_assignment(cohort, "add", by=instructor)
    (regrade,) = entries("grading.regrade")
    assert regrade.after["total"] == 1 and regrade.actor == instructor

    cohort.schedule.update(due_at=timezone.now() - timedelta(hours=1))
    services.release_hidden_tests(cohort, "add", by=instructor)
    services.release_hidden_tests(cohort, "add", by=instructor)  # already out: nothing new
    assert len(entries("grading.release_hidden_tests")) == 1


def test_role_and_budget_changes_are_recorded_however_they_are_made(published, people):
    from accounts.models import Organization
    from compute.models import Allocation
    from learning.models import Enrolment

    enrolment = Enrolment.objects.get(user=people["student"])
    enrolment.role = Enrolment.Role.TEACHING_ASSISTANT
    enrolment.save()
    (promoted,) = [e for e in entries("learning.role") if e.before]
    assert promoted.before == {"role": "student"} and promoted.after == {"role": "ta"}
    assert promoted.subject == people["student"]

    organization = Organization.objects.create(name="Lab", slug="lab", kind="university")
    allocation = Allocation.objects.create(
        organization=organization, user=people["student"], gpu_hours=5
    )
    allocation.gpu_hours = 8
    allocation.save()
    created, raised = entries("compute.budget")
    assert created.before is None and created.after["gpu_hours"] == 5
    assert raised.before["gpu_hours"] == 5 and raised.after["gpu_hours"] == 8

    people["ta"].is_staff = True
    people["ta"].save()
    (staffed,) = entries("accounts.site_role")
    assert staffed.before["is_staff"] is False and staffed.after["is_staff"] is True


def test_judge_scores_and_publishing_are_recorded():
    from judging.models import Criterion
    from judging.services import publish_results, record_scores
    from tests.site.hackathon import hackathon_world

    world = hackathon_world("audit-hack")
    speed = Criterion.objects.get(event=world["event"], name="Speed")
    record_scores(world["assignment"], {speed.pk: 3}, "good")
    record_scores(world["assignment"], {speed.pk: 4}, "better")
    first, second = entries("judging.score")
    assert first.actor == world["judge"] and first.before is None
    assert second.before == {str(speed.pk): 3} and second.after == {str(speed.pk): 4}
    publish_results(world["event"], by=world["organizer"])
    assert entries("judging.results_published")[0].actor == world["organizer"]


def test_staff_read_filter_and_export_the_log_in_both_languages(published, people):
    from grading.services import override_grade

    override_grade(
        published["cohort"], people["student"], "add", 1.5, "점수 조정", by=people["instructor"]
    )
    staff = signed_in(people["staff"])
    page = staff.get(reverse("audit-log"), {"action": "grading.override"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Grade override" in html and "inst" in html and "stud" in html

    export = staff.get(reverse("audit-csv"), {"action": "grading.override"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == "When (UTC)"
    assert len(rows) == 2
    assert rows[1][1] == "inst" and rows[1][3] == "grading.override"
    assert "점수 조정" in rows[1][-1]

    staff.post(reverse("set_language"), {"language": "ko", "next": "/"})
    korean = staff.get(reverse("audit-log")).content.decode()
    assert "감사 로그" in korean  # "Audit log"

    assert signed_in(people["instructor"]).get(reverse("audit-log")).status_code == 403
    assert signed_in(make_user("nobody")).get(reverse("audit-csv")).status_code == 403


def test_a_leaderboard_freeze_and_reveal_are_recorded_with_the_organizer(people):
    from datetime import timedelta

    from contests import services

    from tests.site.contests.world import contest_world

    world = contest_world("audit-contest")
    challenge = world["challenge"]
    freeze_at = timezone.now() + timedelta(hours=1)
    from audit.services import acting_as

    with acting_as(people["staff"]):  # as a request by this person would
        services.set_freeze(challenge, freeze_at)
        services.reveal_private(challenge)
    (freeze,) = entries("contests.freeze")
    assert freeze.actor == people["staff"] and freeze.before == {"freeze_at": None}
    assert freeze.after == {"freeze_at": freeze_at.isoformat()}
    (reveal,) = entries("contests.reveal")
    assert reveal.before["private_revealed_at"] is None and reveal.after["private_revealed_at"]
    assert reveal.after["closes_at"]  # a reveal closes entries, recorded with it


def test_a_team_budget_grant_by_an_organizer_is_recorded(people):
    from audit.services import acting_as
    from compute.allocations import grant_team_hours
    from compute.models import Allocation
    from tests.site.hackathon import hackathon_world

    world = hackathon_world("budget-hack")
    event = world["event"]
    Allocation.objects.create(
        organization=event.organization, event=event, gpu_hours=10, per_team_gpu_hours=2
    )
    with acting_as(world["organizer"]):
        grant_team_hours(world["team"], 1.5, "finalist")
    granted = [e for e in entries("compute.budget") if e.after and e.after["team"]]
    (entry,) = granted
    assert entry.actor == world["organizer"] and entry.before is None
    assert entry.after["gpu_hours"] == 1.5 and entry.after["note"] == "finalist"
