"""Issue 9, points 6 and 7 in the site: only a notebook of the assignment is stored and can count,
one rule (latest or best valid submission) decides what counts everywhere, and points the grader
held wait for an instructor's decision on the cohort's review queue."""

import csv
import io
import json

import nbformat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grading import selectors, services
from grading.models import AssignmentPolicy, Review, Submission
from learning.manifest import ManifestError
from tests.site.factories import MANIFEST, write_course
from tests.site.grading_helpers import grader_result, held_review, student_notebook

pytestmark = pytest.mark.django_db


def submit(published, student, data):
    return services.submit(published["cohort"], student, "add", data)


def record(published, student, score, **kwargs):
    """A valid stored submission whose grade the grader reported as `grader_result(...)`."""
    submission = submit(published, student, student_notebook())
    services.record_result(submission, submission.assignment, grader_result(score, **kwargs))
    return submission


def other_assignment_notebook() -> bytes:
    nb = json.loads(student_notebook())
    for cell in nb["cells"]:
        if "nbgrader" in cell["metadata"]:
            cell["metadata"]["nbgrader"]["grade_id"] = (
                "ex-" + cell["metadata"]["nbgrader"]["grade_id"]
            )
    return json.dumps(nb).encode()


def without_answer_cell() -> bytes:
    nb = json.loads(student_notebook())
    nb["cells"] = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "add-answer"
    ]
    return json.dumps(nb).encode()


def nbformat3() -> bytes:
    nb = json.loads(student_notebook())
    nb["nbformat"] = 3
    return json.dumps(nb).encode()


def damaged_cell() -> bytes:
    nb = json.loads(student_notebook())
    nb["cells"][1]["outputs"] = "not a list"
    return json.dumps(nb).encode()


def too_many_cells() -> bytes:
    nb = json.loads(student_notebook())
    nb["cells"] += [{"cell_type": "markdown", "metadata": {}, "source": "x"}] * 2000
    return json.dumps(nb).encode()


REFUSED = {
    "text file": (b"def add(a, b):\n    return a + b\n", "not valid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe", "not text"),
    "broken json": (student_notebook()[:-40], "not valid JSON"),
    "json list": (b"[1, 2, 3]", "no list of cells"),
    "nested 50000 deep": (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    "nbformat 3": (nbformat3(), "format 3"),
    "damaged cell": (damaged_cell(), "damaged: cell 2"),
    "another assignment": (other_assignment_notebook(), "none of its graded cells"),
    "answer cell deleted": (without_answer_cell(), "missing from this notebook: add-answer"),
    "empty": (b"", "empty"),
    "too many cells": (too_many_cells(), "2003 cells; at most 2000"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_file_that_is_not_a_notebook_of_the_assignment_is_refused_and_stored_nowhere(
    published, people, kind
):
    data, reason = REFUSED[kind]
    with pytest.raises(services.SubmissionError, match=reason):
        submit(published, people["student"], data)
    assert not Submission.objects.exists()


def test_a_copy_pasted_answer_cell_is_not_refused(published, people):
    nb = nbformat.reads(student_notebook().decode(), as_version=4)
    nb.cells.insert(2, nbformat.from_dict(json.loads(json.dumps(nb.cells[1]))))
    submit(published, people["student"], nbformat.writes(nb).encode())
    assert Submission.objects.count() == 1


def test_refusal_is_shown_on_the_page_in_the_students_language(published, people):
    cohort = published["cohort"]
    client = Client()
    client.force_login(people["student"])
    url = reverse("submit", args=[cohort.pk, "add"])
    upload = SimpleUploadedFile("add.ipynb", b"print('hello')", "application/json")
    page = client.post(url, {"notebook": upload}, follow=True).content.decode()
    assert "not valid JSON" in page
    upload = SimpleUploadedFile("add.ipynb", other_assignment_notebook(), "application/json")
    page = client.post(url, {"notebook": upload}, follow=True, HTTP_ACCEPT_LANGUAGE="ko")
    assert "채점 셀" in page.content.decode(), "the reason is translated"
    assert not Submission.objects.exists()


def test_a_refused_upload_never_replaces_the_grade_that_counts(published, people):
    student, cohort = people["student"], published["cohort"]
    good = record(published, student, 3)
    with pytest.raises(services.SubmissionError):
        submit(published, student, b"not a notebook at all")
    # A file the grader itself refuses (flagged invalid) is kept but never counts either.
    record(published, student, 0, flags=["invalid-submission"], reasons=["damaged"])
    assert selectors.counted_submissions(cohort)[(student.pk, "add")].pk == good.pk
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 3)


def _csv_score(client, cohort) -> str:
    body = client.get(reverse("gradebook-csv", args=[cohort.pk])).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    return rows[0]["add"]


def test_latest_or_best_valid_submission_counts_by_one_rule_everywhere(published, people):
    student, cohort = people["student"], published["cohort"]
    full = record(published, student, 3)
    worse = record(published, student, 1)
    teacher = Client()
    teacher.force_login(people["instructor"])
    me = Client()
    me.force_login(student)
    page = reverse("assignment-detail", args=[cohort.pk, "add"])

    assert AssignmentPolicy.objects.get(assignment=full.assignment).counts == "latest"
    assert selectors.counted_submissions(cohort)[(student.pk, "add")].pk == worse.pk
    assert _csv_score(teacher, cohort) == "1.0"
    assert "Your latest valid submission counts." in me.get(page).content.decode()

    AssignmentPolicy.objects.filter(assignment=full.assignment).update(counts="best")
    assert selectors.counted_submissions(cohort)[(student.pk, "add")].pk == full.pk
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 3)
    assert _csv_score(teacher, cohort) == "3.0"
    _assignments, rows = selectors.gradebook(cohort)
    assert rows[0].cells[0].submission.pk == full.pk and rows[0].cells[0].score == 3
    body = me.get(page).content.decode()
    assert "Your best valid submission counts." in body
    history = selectors.submission_history(cohort, student, "add")
    assert [s.counts for s in history] == [False, True], "the page marks the best one"


def test_the_manifest_sets_the_rule(people, tmp_path, settings):
    from learning.services.publishing import publish_course

    best = MANIFEST.replace("points = 3\n", 'points = 3\ncounts = "best"\n')
    settings.KC_COURSES_DIR, settings.KC_NOTEBOOKS_DIR = write_course(tmp_path, best)
    version = publish_course("tiny", by=people["instructor"]).version
    assert version.assignments.get().grading_policy.counts == "best"
    wrong = MANIFEST.replace("points = 3\n", 'points = 3\ncounts = "first"\n')
    settings.KC_COURSES_DIR, settings.KC_NOTEBOOKS_DIR = write_course(tmp_path / "w", wrong)
    with pytest.raises(ManifestError, match="counts = 'first'; use one of latest, best"):
        publish_course("tiny", by=people["instructor"])


def test_held_points_wait_on_the_review_queue_with_flags_reasons_code_and_tests(published, people):
    cohort, student = published["cohort"], people["student"]
    review = held_review(cohort, student, answer="    return sys._getframe(1).f_locals['want']")
    assert review.decision == "pending"
    # Held points are not in the score until released; the gradebook says they wait.
    _assignments, rows = selectors.gradebook(cohort)
    assert rows[0].cells[0].score == 0 and rows[0].cells[0].held_points == 3

    ta = Client()
    ta.force_login(people["ta"])
    queue = ta.get(reverse("review-queue", args=[cohort.pk])).content.decode()
    assert f'data-review="{review.pk}"' in queue and "review-needed" in queue
    assert "sys._getframe" in queue, "the reason is on the queue"
    detail = ta.get(reverse("review-detail", args=[review.pk])).content.decode()
    assert "f_locals[&#x27;want&#x27;]" in detail, "the student's code"
    assert "assert add(-1, 1) == 0" in detail, "beside the test, hidden tests included"
    assert 'id="decide-form"' not in detail, "a TA reads but does not decide"
    decide = reverse("review-decide", args=[review.pk])
    assert ta.post(decide, {"decision": "released", "comment": "ok"}).status_code == 403


def test_instructor_releases_adjusts_or_zeroes_with_a_comment_and_the_student_sees_it(
    published, people
):
    cohort, student = published["cohort"], people["student"]
    review = held_review(cohort, student)
    submission = review.submission
    teacher = Client()
    teacher.force_login(people["instructor"])
    decide = reverse("review-decide", args=[review.pk])
    teacher.post(decide, {"decision": "released", "comment": ""})
    assert Review.objects.get(pk=review.pk).decision == "pending", "a comment is required"

    teacher.post(decide, {"decision": "released", "comment": "frame use is harmless here"})
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 3)
    me = Client()
    me.force_login(student)
    status = me.get(reverse("submission-status", args=[submission.pk])).content.decode()
    assert 'data-decision="released"' in status and "frame use is harmless here" in status
    assert "<strong>3</strong> / 3" in status

    teacher.post(decide, {"decision": "adjusted", "score": "1.5", "comment": "half"})
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 1.5)
    teacher.post(decide, {"decision": "adjusted", "score": "7", "comment": "too much"})
    assert Review.objects.get(pk=review.pk).score == 1.5, "no more than the maximum"
    teacher.post(decide, {"decision": "zeroed", "comment": "reads the expected value"})
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 0)
    queue = teacher.get(reverse("review-queue", args=[cohort.pk])).content.decode()
    assert 'id="queue-empty"' in queue and "reads the expected value" in queue


def test_pending_review_shows_to_the_student_and_a_regrade_reopens_a_decision(published, people):
    cohort, student = published["cohort"], people["student"]
    review = held_review(cohort, student)
    me = Client()
    me.force_login(student)
    status = me.get(reverse("submission-status", args=[review.submission_id])).content.decode()
    assert 'data-decision="pending"' in status and "held for review" in status
    services.decide_review(review, "released", "fine", people["instructor"])
    submission = review.submission
    services.record_result(
        submission, submission.assignment, grader_result(0, held=3, flags=["review-needed"])
    )
    assert Review.objects.get(pk=review.pk).decision == "pending"
    # A clean regrade leaves nothing to review.
    services.record_result(submission, submission.assignment, grader_result(3))
    assert not Review.objects.filter(pk=review.pk).exists()


def test_informational_flags_alone_do_not_queue_a_review(published, people):
    record(published, people["student"], 3, flags=["output-truncated", "duplicate-cell"])
    assert not Review.objects.exists()
    record(published, people["student"], 3, flags=["tampered-runtime"])
    assert Review.objects.count() == 1


@pytest.mark.slow
def test_the_real_grader_holds_points_and_the_site_queues_them(published, people):
    cohort, student = published["cohort"], people["student"]
    answer = "    import sys\n    sys._getframe(1)\n    return a + b"
    submission = submit(published, student, student_notebook(answer))
    assert services.grade_now(submission.pk) == "graded"
    grade = submission.grade
    assert grade.score == 0 and grade.held_points == 3 and "review-needed" in grade.flags
    assert [c.held for c in grade.cells.all()] == [True]
    (review,) = selectors.review_queue(cohort)
    assert review.submission_id == submission.pk and review.counts_now
    services.decide_review(review, "released", "harmless frame use", people["instructor"])
    assert selectors.scores_by_assignment(cohort, student)["add"] == ("graded", 3)
