"""A grading worker's claim: short, renewed while it grades, and fenced, so a worker that lost its
lease never writes a grade over the one of the worker that took over."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from grading import leases, services
from grading.models import Grade, Submission
from tests.site.grading_helpers import grader_result, student_notebook


def _expire(submission_id: int) -> None:
    Submission.objects.filter(pk=submission_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_writes_nothing(published, people):
    submission = services.submit(published["cohort"], people["student"], "add", student_notebook())
    stale = leases.claim(submission.pk, force=False)
    assert leases.claim(submission.pk, force=False) is None, "a live lease is not taken"
    _expire(submission.pk)  # the first worker stalls past its lease
    fresh = leases.claim(submission.pk, force=False)
    assert fresh == stale + 1
    assert services.record_result(submission, submission.assignment, grader_result(3), fresh)
    assert (
        services.record_result(submission, submission.assignment, grader_result(0), stale) is None
    )
    assert Grade.objects.get(submission=submission).raw_score == 3
    assert not leases.renew(submission.pk, stale), "the stale worker's heartbeat stops too"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_a_long_notebook_grades(published, people, settings):
    settings.KC_GRADING_LEASE_SECONDS = 1.5  # a heartbeat every 0.5 s
    data = student_notebook(prelude="import time\ntime.sleep(5)\n")
    submission = services.submit(published["cohort"], people["student"], "add", data)
    taken, done = [], threading.Event()

    def sweeper() -> None:  # what every other worker's recovery sweep does meanwhile
        from django.db import connection

        while not done.wait(0.3):
            taken.extend(services.recover_interrupted_grading())
        connection.close()

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        assert services.grade_now(submission.pk) == "graded"
    finally:
        done.set()
        thread.join()
    assert taken == [], "the sweep never took the job from the live worker"
    submission.refresh_from_db()
    assert submission.attempts == 1 and submission.status == "graded"
