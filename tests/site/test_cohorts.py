"""Cohort schedules, late policies, extensions and what a student sees."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from learning.models import Cohort
from learning.selectors import assignment_rows, due_at_for
from learning.services.cohorts import (
    CohortError,
    create_cohort,
    grant_extension,
    late_penalty_percent,
)

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")


def test_default_schedule_is_in_the_cohort_time_zone(published):
    course = published["course"]
    cohort = create_cohort(
        course, "Night", datetime(2026, 3, 2).date(), datetime(2026, 3, 20).date()
    )
    entry = cohort.schedule.get(assignment_slug="add")
    assert cohort.time_zone == "Asia/Seoul"
    assert entry.release_at.astimezone(SEOUL).hour == 9
    assert entry.due_at.astimezone(SEOUL).strftime("%H:%M") == "23:59"


def test_cohort_cannot_end_before_it_starts(published):
    with pytest.raises(CohortError):
        create_cohort(
            published["course"], "Bad", datetime(2026, 3, 2).date(), datetime(2026, 3, 1).date()
        )


@pytest.mark.parametrize(
    ("policy", "late", "expected"),
    [
        (Cohort.LatePolicy.NONE, timedelta(minutes=1), 100),
        (Cohort.LatePolicy.NONE, timedelta(0), 0),
        (Cohort.LatePolicy.PENALTY_PER_DAY, timedelta(hours=1), 10),
        (Cohort.LatePolicy.PENALTY_PER_DAY, timedelta(days=1, hours=1), 20),
        (Cohort.LatePolicy.PENALTY_PER_DAY, timedelta(days=30), 50),
        (Cohort.LatePolicy.ZERO_AFTER_GRACE, timedelta(hours=5), 0),
        (Cohort.LatePolicy.ZERO_AFTER_GRACE, timedelta(hours=7), 100),
    ],
)
def test_late_penalty(published, policy, late, expected):
    cohort = published["cohort"]
    cohort.late_policy, cohort.grace_hours = policy, 6
    due = datetime(2026, 3, 9, 23, 59, tzinfo=SEOUL)
    assert late_penalty_percent(cohort, due, due + late) == expected


def test_extension_moves_one_students_due_time(published, people):
    cohort = published["cohort"]
    new_due = datetime(2027, 1, 1, 12, 0, tzinfo=SEOUL)
    grant_extension(cohort, people["student"], "add", new_due, reason="illness")
    assert due_at_for(cohort, people["student"], "add") == new_due
    row = assignment_rows(cohort, people["student"])[0]
    assert row.extended and row.due_at == new_due
    with pytest.raises(CohortError):
        grant_extension(cohort, people["outsider"], "add", new_due)


def test_student_page_shows_times_in_the_students_zone(published, people):
    cohort, student = published["cohort"], people["student"]
    entry = cohort.schedule.get()
    entry.due_at = datetime(2030, 5, 1, 14, 0, tzinfo=ZoneInfo("UTC"))
    entry.save()
    client = Client()
    client.force_login(student)
    assert (
        "2030-05-01 23:00"
        in client.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
    )
    student.time_zone = "Europe/Berlin"
    student.save()
    assert (
        "2030-05-01 16:00"
        in client.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
    )


def test_unreleased_assignment_is_hidden_from_students(published, people):
    cohort = published["cohort"]
    entry = cohort.schedule.get()
    entry.release_at = datetime(2099, 1, 1, tzinfo=SEOUL)
    entry.due_at = datetime(2099, 2, 1, tzinfo=SEOUL)
    entry.save()
    client = Client()
    client.force_login(people["student"])
    assert client.get(reverse("assignment-detail", args=[cohort.pk, "add"])).status_code == 403
    client.force_login(people["ta"])
    assert client.get(reverse("assignment-detail", args=[cohort.pk, "add"])).status_code == 200


def test_instructor_schedule_form_uses_the_cohort_zone(published, people):
    cohort = published["cohort"]
    client = Client()
    client.force_login(people["instructor"])
    response = client.post(
        reverse("teach-schedule", args=[cohort.pk]),
        {"assignment_slug": "add", "release_at": "2026-04-01T09:00", "due_at": "2026-04-08T23:59"},
    )
    assert response.status_code == 302
    entry = cohort.schedule.get()
    assert entry.release_at == datetime(2026, 4, 1, 9, 0, tzinfo=SEOUL)
    bad = client.post(
        reverse("teach-schedule", args=[cohort.pk]),
        {"assignment_slug": "add", "release_at": "2026-04-08T09:00", "due_at": "2026-04-01T23:59"},
    )
    assert bad.status_code == 302
    entry.refresh_from_db()
    assert entry.due_at == datetime(2026, 4, 8, 23, 59, tzinfo=SEOUL), (
        "a bad schedule changes nothing"
    )
