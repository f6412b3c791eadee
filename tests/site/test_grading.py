"""Submissions are stored first, graded once, and counted by arrival."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from grading import selectors, services
from grading.models import Grade, GradeOverride, Submission
from tests.site.grading_helpers import student_notebook

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def submit(published, student, data, **kwargs):
    return services.submit(published["cohort"], student, "add", data, **kwargs)


def test_submission_is_stored_then_queued(published, people, django_capture_on_commit_callbacks):
    data = student_notebook()
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(published, people["student"], data)
    submission.refresh_from_db()
    assert bytes(submission.notebook) == data and len(submission.sha256) == 64
    assert submission.status == Submission.Status.QUEUED
    task = DBTaskResult.objects.get(id=submission.task_id)
    assert task.queue_name == "grading" and task.args_kwargs["args"][0] == submission.pk


def test_grading_twice_keeps_one_grade(published, people):
    submission = submit(published, people["student"], student_notebook())
    assert services.grade_now(submission.pk) == "graded"
    assert services.grade_now(submission.pk) == "skipped", "a graded submission is not graded again"
    grade = Grade.objects.get(submission=submission)
    assert grade.score == grade.raw_score == 3 and grade.device == "cuda-simulator"
    assert [c.status for c in grade.cells.all()] == ["passed"]
    assert (
        services.grade_now(submission.pk, source_assignment_id=submission.assignment_id) == "graded"
    )
    assert Grade.objects.filter(submission=submission).count() == 1


def test_two_submissions_in_the_same_second_both_kept_later_counts(published, people):
    good = submit(published, people["student"], student_notebook())
    bad = submit(published, people["student"], student_notebook("    return 0"))
    same_second = timezone.now().replace(microsecond=0)
    Submission.objects.filter(pk__in=[good.pk, bad.pk]).update(submitted_at=same_second)
    for s in (good, bad):
        services.grade_now(s.pk)
    counted = selectors.counted_submissions(published["cohort"])
    assert counted[(people["student"].pk, "add")].pk == bad.pk
    assert Submission.objects.filter(student=people["student"]).count() == 2
    assert selectors.scores_by_assignment(published["cohort"], people["student"])["add"] == (
        "graded",
        0,
    )


def test_late_penalty_keeps_the_raw_score(published, people):
    cohort = published["cohort"]
    cohort.late_policy = "per_day"
    cohort.save()
    cohort.schedule.update(due_at=timezone.now() - timedelta(hours=30))
    submission = submit(published, people["student"], student_notebook())
    services.grade_now(submission.pk)
    grade = Grade.objects.get(submission=submission)
    assert (
        grade.raw_score == 3
        and grade.late_penalty_percent == 20
        and grade.score == pytest.approx(2.4)
    )


def test_override_is_kept_apart_and_exported(published, people):
    cohort, student = published["cohort"], people["student"]
    submission = submit(published, student, student_notebook("    return 0"))
    services.grade_now(submission.pk)
    with pytest.raises(services.SubmissionError):
        services.override_grade(cohort, student, "add", 2, "   ", people["instructor"])
    services.override_grade(
        cohort, student, "add", 2, "partial credit for the idea", people["instructor"]
    )
    assert Grade.objects.get(submission=submission).score == 0, "the autograde is untouched"
    assert GradeOverride.objects.get().score == 2
    client = Client()
    client.force_login(people["instructor"])
    body = client.get(reverse("gradebook-csv", args=[cohort.pk])).content.decode()
    header, row = body.splitlines()[:2]
    assert header.startswith("username,email,add,add_raw,add_late_penalty_pct,add_override_comment")
    assert row.startswith("stud,stud@example.org,2.0,0.0,0.0,partial credit for the idea")


def test_hidden_tests_stay_hidden_until_released_after_due(published, people):
    cohort, student = published["cohort"], people["student"]
    submission = submit(published, student, student_notebook("    return 0"))
    services.grade_now(submission.pk)
    client = Client()
    client.force_login(student)
    page = reverse("assignment-detail", args=[cohort.pk, "add"])
    feedback = client.get(reverse("submission-feedback", args=[submission.pk]), follow=True)
    assert feedback.redirect_chain[-1][0] == reverse(
        "submission-feedback-page", args=[submission.pk]
    )
    assert "add(-1, 1)" not in feedback.content.decode()
    assert "script-src 'self'" in feedback["Content-Security-Policy"]
    assert "add(-1, 1)" not in client.get(page).content.decode()
    with pytest.raises(services.SubmissionError):
        services.release_hidden_tests(cohort, "add", people["instructor"])
    cohort.schedule.update(due_at=timezone.now() - timedelta(minutes=1))
    services.release_hidden_tests(cohort, "add", people["instructor"])
    assert "add(-1, 1)" in client.get(page).content.decode()


def test_upload_page_and_status_fragment(published, people, django_capture_on_commit_callbacks):
    cohort = published["cohort"]
    client = Client()
    client.force_login(people["student"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("add.ipynb", student_notebook(), "application/json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("submit", args=[cohort.pk, "add"]), {"notebook": upload})
    submission = Submission.objects.get()
    assert response["Location"] == reverse("submission-detail", args=[submission.pk])
    status = client.get(reverse("submission-status", args=[submission.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in status and 'data-status="queued"' in status
    services.grade_now(submission.pk)
    status = client.get(reverse("submission-status", args=[submission.pk])).content.decode()
    assert "hx-trigger" not in status and 'data-status="graded"' in status and "add-tests" in status
    outsider = Client()
    outsider.force_login(people["outsider"])
    assert outsider.get(reverse("submission-detail", args=[submission.pk])).status_code == 403


def test_oversized_upload_is_refused_with_a_reason(published, people, settings):
    settings.KC_MAX_SUBMISSION_BYTES = 1000
    with pytest.raises(services.SubmissionError, match="limit"):
        submit(published, people["student"], b"x" * 2000)
    assert not Submission.objects.exists()


def test_malformed_upload_is_refused_and_stored_nowhere(published, people):
    with pytest.raises(services.SubmissionError, match="not valid JSON"):
        submit(published, people["student"], b"{not json")
    assert not Submission.objects.exists()


def test_regrade_is_one_action_with_progress(published, people, django_capture_on_commit_callbacks):
    cohort = published["cohort"]
    submission = submit(published, people["student"], student_notebook())
    services.grade_now(submission.pk)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.regrade_assignment(cohort, "add", by=people["instructor"])
    assert selectors.regrade_progress(batch) == {"total": 1, "done": 0, "by_status": {"queued": 1}}
    services.grade_now(submission.pk, source_assignment_id=submission.assignment_id)
    assert selectors.regrade_progress(batch)["done"] == 1
    client = Client()
    client.force_login(people["instructor"])
    page = client.get(reverse("regrade-detail", args=[batch.pk])).content.decode()
    assert 'data-done="1" data-total="1"' in page


def test_a_regrade_interrupted_by_a_dead_worker_is_queued_against_the_same_source(
    published, people, django_capture_on_commit_callbacks
):
    cohort = published["cohort"]
    submission = submit(published, people["student"], student_notebook())
    services.grade_now(submission.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.regrade_assignment(cohort, "add", by=people["instructor"])
    # A worker claims it, then dies: its lease runs out.
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.RUNNING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.recover_interrupted_grading() == [submission.pk]
    submission.refresh_from_db()
    task = DBTaskResult.objects.get(id=submission.task_id)
    assert task.args_kwargs["args"] == [submission.pk, submission.assignment_id]
    assert services.grade_now(*task.args_kwargs["args"]) == "graded"
    submission.refresh_from_db()
    assert submission.regrade_against is None and submission.status == "graded"


def test_gradebook_shows_scores_flags_and_plots(published, people):
    cohort = published["cohort"]
    services.grade_now(submit(published, people["student"], student_notebook("    return 0")).pk)
    client = Client()
    client.force_login(people["ta"])
    page = client.get(reverse("gradebook", args=[cohort.pk])).content.decode()
    assert 'data-student="stud"' in page and "<svg" in page and "add-tests" in page
    assert selectors.most_failed_tests(cohort) == [("add", "add-tests", 1, 1)]
