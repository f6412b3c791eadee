"""The review page numbers the student's code cells as the grader's reasons do ("cell 3, line 1")
and folds away given code the student left as handed out, so the flagged cell is not buried
under hundreds of lines of setup (found on the walk: the demo's race checker filled the page)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from grading import selectors
from grading.models import Submission
from tests.site.grading_helpers import held_review

pytestmark = pytest.mark.django_db

GIVEN = {
    "cell_type": "code",
    "metadata": {
        "nbgrader": {"grade_id": "setup", "solution": False, "grade": False, "locked": True}
    },
    "execution_count": None,
    "outputs": [],
    "source": "import math  # given setup",
}


def with_given_cell(review, *, changed: bool, extra: str = "") -> Submission:
    """Put a given cell before the answer, in the instructor source and in the submission."""
    submission = review.submission
    assignment = submission.grade.graded_against
    source = json.loads(assignment.source_notebook)
    source["cells"].insert(1, GIVEN)
    assignment.source_notebook = json.dumps(source)
    assignment.save(update_fields=["source_notebook"])
    notebook = json.loads(bytes(submission.notebook))
    given = dict(GIVEN, source=GIVEN["source"] + ("\nmath.pi = 3" if changed else ""))
    notebook["cells"].insert(1, given)
    if extra:
        notebook["cells"].insert(2, dict(GIVEN, metadata={}, source=extra))
    Submission.objects.filter(pk=submission.pk).update(notebook=json.dumps(notebook).encode())
    return Submission.objects.get(pk=submission.pk)


def test_given_code_folds_and_answer_cells_carry_the_graders_numbers(published, people):
    review = held_review(published["cohort"], people["student"])
    submission = with_given_cell(review, changed=False, extra="import sys  # added by the student")
    [row] = selectors.code_beside_tests(submission)
    # intro (1), given (2), the student's own cell (3), the answer (4), the test (5)
    assert [(c.number, c.answer) for c in row.student_code] == [(2, False), (3, True), (4, True)]

    instructor = Client()
    instructor.force_login(people["instructor"])
    page = instructor.get(reverse("review-detail", args=[review.pk])).content.decode()
    assert '<details class="given-code"><summary class="muted">cell 2: given code' in page
    assert "cell 3</p>" in page and "cell 4</p>" in page
    assert "import sys  # added by the student" in page


def test_given_code_the_student_changed_stays_open(published, people):
    review = held_review(published["cohort"], people["student"])
    submission = with_given_cell(review, changed=True)
    [row] = selectors.code_beside_tests(submission)
    assert [(c.number, c.answer) for c in row.student_code] == [(2, True), (3, True)]


def test_a_grade_id_that_is_not_text_does_not_break_the_page(published, people):
    review = held_review(published["cohort"], people["student"])
    submission = review.submission
    notebook = json.loads(bytes(submission.notebook))
    notebook["cells"].insert(1, dict(GIVEN, metadata={"nbgrader": {"grade_id": ["x"]}}))
    Submission.objects.filter(pk=submission.pk).update(notebook=json.dumps(notebook).encode())
    rows = selectors.code_beside_tests(Submission.objects.get(pk=submission.pk))
    assert rows[0].student_code[0].answer
