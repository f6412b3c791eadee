"""The scoring queue is fair: a flood from one team or one event cannot starve the others, and
cohort grading goes before challenge entries on a worker that serves both."""

import pytest
from contests import queue, services
from contests.models import Entry
from contests.selectors import queue_position

from tests.site.contests.world import contest_world
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def order_served(limit: int) -> list[str]:
    served = []
    for _ in range(limit):
        claimed = queue.claim_next()
        if claimed is None:
            break
        entry, _attempt = claimed
        served.append(entry)
        Entry.objects.filter(pk=entry.pk).update(status=Entry.Status.SCORED)
    return served


def test_a_flooding_team_does_not_starve_another_team_or_event():
    from contests.models import Challenge

    flood = contest_world("flood")
    quiet = contest_world("quiet")
    Entry.objects.filter(is_baseline=True).delete()
    Challenge.objects.update(quota_per_day=100, quota_total=100)
    for world in (flood, quiet):
        world["challenge"].refresh_from_db()
    for _ in range(12):
        services.submit_entry(flood["challenge"], flood["a1"], CSV, "p.csv")
    late_b = services.submit_entry(flood["challenge"], flood["b1"], CSV, "p.csv")
    late_other_event = services.submit_entry(quiet["challenge"], quiet["a1"], CSV, "p.csv")
    # FIFO would serve these 13th and 14th; the fair order serves them within the first four.
    assert queue_position(late_b) <= 4 and queue_position(late_other_event) <= 4
    served = order_served(4)
    assert late_b in served and late_other_event in served
    assert served[0].challenge.event == flood["event"]  # the oldest event lane goes first
    assert served[1] == late_other_event  # then the event that was never served


def test_a_worker_serving_both_queues_takes_cohort_grading_before_any_entry():
    """django-tasks-db hands a worker the ready task of highest priority first: a flood of entry
    tokens queued earlier still waits behind a notebook handed in later."""
    from django_tasks_db.models import DBTaskResult

    from grading.tasks import grade_submission

    for _ in range(5):
        queue.enqueue_token()
    grade_submission.enqueue(12345)
    picked = DBTaskResult.objects.ready().filter(queue_name__in=["grading", "contests"])
    assert picked.get_locked().queue_name == "grading"
    assert DBTaskResult.objects.filter(queue_name="contests").count() == 5


def test_an_expired_lease_is_taken_back_and_the_old_claim_cannot_write():
    from datetime import timedelta

    from contests.scoring import record_result
    from django.utils import timezone

    from tests.site.contests.world import scored

    world = contest_world()
    Entry.objects.filter(is_baseline=True).delete()
    entry = services.submit_entry(world["challenge"], world["a1"], CSV, "p.csv")
    first = queue.claim(entry.pk)
    Entry.objects.filter(pk=entry.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert queue.recover() == [entry.pk]
    second = queue.claim(entry.pk)
    assert second == first + 1
    assert not record_result(entry.pk, first, scored(0.9))
    assert record_result(entry.pk, second, scored(0.4))
    entry.refresh_from_db()
    assert entry.public_score == 0.4
