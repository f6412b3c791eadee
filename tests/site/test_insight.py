"""Progress at a glance and similarity, on stored submissions of the tiny course."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grading import services, similarity
from grading.models import Submission
from learning.models import Enrolment
from learning.services.enrolment import enrol
from tests.site.factories import make_user
from tests.site.feedback_helpers import COPIED, ORIGINAL, answer_notebook
from tests.site.grading_helpers import grader_result, held_review, student_notebook

pytestmark = pytest.mark.django_db

INDEPENDENT = [
    "def add(a, b):\n    return a + b\n",
    "def add(a, b):\n    import operator\n\n    return operator.add(a, b)\n",
    "def add(a, b):\n    result = sum([a, b])\n    return result\n",
    "def add(a, b):\n    if b == 0:\n        return a\n    return add(a + 1, b - 1) if b > 0 else add(a - 1, b + 1)\n",
]


def _students(cohort, n):
    users = [make_user(f"s{i}") for i in range(n)]
    for user in users:
        enrol(cohort, user, source=Enrolment.Source.MANUAL)
    return users


def _graded(cohort, student, notebook: bytes, score: float = 3):
    submission = services.submit(cohort, student, "add", notebook)
    result = grader_result(score)
    result.cells[0].status = "passed" if score == 3 else "failed"
    services.record_result(submission, submission.assignment, result)
    return submission


def test_a_copied_and_renamed_answer_ranks_first(published, people):
    cohort = published["cohort"]
    students = _students(cohort, 6)
    original = _graded(cohort, students[0], answer_notebook(ORIGINAL))
    copy = _graded(cohort, students[1], answer_notebook(COPIED))
    for student, code in zip(students[2:], INDEPENDENT, strict=True):
        _graded(cohort, student, answer_notebook(code))
    pairs = similarity.closest_pairs(similarity.answers(cohort, "add"))
    top = pairs[0]
    assert {top.a.submission.pk, top.b.submission.pk} == {original.pk, copy.pk}
    assert top.percent >= 80
    assert all(p.percent < top.percent / 2 for p in pairs[1:])
    # The pages: only instructors; the side-by-side marks the copied lines.
    client = Client()
    client.force_login(people["instructor"])
    listing = client.get(reverse("similarity", args=[cohort.pk, "add"])).content.decode()
    first_row = listing.split('data-pair="')[1].split('"')[0]
    assert set(first_row.split()) == {"s0", "s1"}
    side = client.get(
        reverse("similarity-pair", args=[cohort.pk, "add", original.pk, copy.pk])
    ).content.decode()
    assert "<mark>        total = total + value</mark>" in side
    assert "<mark>        acc = acc + item</mark>" in side
    ta = Client()
    ta.force_login(people["ta"])
    assert ta.get(reverse("similarity", args=[cohort.pk, "add"])).status_code == 403


def test_starter_code_does_not_make_answers_alike(published):
    cohort = published["cohort"]
    assignment = cohort.version.assignments.get(slug="add")
    starter = similarity.starter_hashes(assignment.release_notebook)
    given = "def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    docs = [similarity.fingerprint([given], starter), similarity.fingerprint([given], starter)]
    assert docs[0].prints == {} and similarity.closest_pairs(docs) == []
    unfiltered = [similarity.fingerprint([given], set()), similarity.fingerprint([given], set())]
    assert unfiltered[0].prints


def test_progress_grid_states_and_filters(published, people):
    cohort = published["cohort"]
    graded_student, held_student, late_student, idle_student, queued_student = _students(cohort, 5)
    _graded(cohort, graded_student, student_notebook(), score=3)
    held_review(cohort, held_student)
    late = services.submit(cohort, late_student, "add", student_notebook())
    due_at = cohort.schedule.get(assignment_slug="add").due_at
    Submission.objects.filter(pk=late.pk).update(submitted_at=due_at + timedelta(hours=30))
    late.refresh_from_db()
    services.record_result(late, late.assignment, grader_result(3))
    services.submit(cohort, queued_student, "add", student_notebook())
    client = Client()
    client.force_login(people["ta"])
    url = reverse("cohort-progress", args=[cohort.pk])
    body = client.get(url).content.decode()

    def state_of(username: str, text: str) -> str:
        row = text.split(f'data-student="{username}"')[1].split("</tr>")[0]
        return row.split('data-state="')[1].split('"')[0]

    assert state_of("s0", body) == "graded"
    assert state_of("s1", body) == "held"
    assert state_of("s2", body) == "late"
    assert state_of("s3", body) == "not-started"
    assert state_of("s4", body) == "submitted"
    held_only = client.get(url, {"state": "held"}).content.decode()
    assert 'data-student="s1"' in held_only and 'data-student="s0"' not in held_only
    by_name = client.get(url, {"q": "s2"}).content.decode()
    assert 'data-student="s2"' in by_name and 'data-student="s1"' not in by_name


def test_student_sees_own_progress_only(published, people):
    cohort = published["cohort"]
    other = _students(cohort, 1)[0]
    _graded(cohort, people["student"], student_notebook(), score=2)
    student = Client()
    student.force_login(people["student"])
    own = student.get(reverse("my-progress", args=[cohort.pk]))
    assert own.status_code == 200 and 'data-state="graded"' in own.content.decode()
    assert "2 / 3" in own.content.decode()
    peek = student.get(reverse("student-progress", args=[cohort.pk, other.pk]))
    assert peek.status_code == 403
    ta = Client()
    ta.force_login(people["ta"])
    assert (
        ta.get(reverse("student-progress", args=[cohort.pk, people["student"].pk])).status_code
        == 200
    )


def test_assignment_page_lists_failing_submissions(published, people):
    cohort = published["cohort"]
    passing, failing = _students(cohort, 2)
    _graded(cohort, passing, student_notebook(), score=3)
    failed = _graded(cohort, failing, student_notebook("    return 0"), score=0)
    client = Client()
    client.force_login(people["instructor"])
    body = client.get(reverse("assignment-insight", args=[cohort.pk, "add"])).content.decode()
    row = body.split('data-grade-id="add-tests"')[1].split("</tr>")[0]
    assert "1 / 2" in row
    assert reverse("submission-detail", args=[failed.pk]) in row
    assert 'id="similarity-link"' in body


def test_cells_waiting_for_a_person_and_grades_by_hand(published, people):
    from grading.services_manual import CellGradeInput, grade_by_hand

    cohort = published["cohort"]
    submission = services.submit(cohort, people["student"], "add", student_notebook())
    result = grader_result(0)
    result.cells[0].status = "needs-manual-grade"
    result.cells[0].points = 0
    services.record_result(submission, submission.assignment, result)
    submission.refresh_from_db()
    teacher = Client()
    teacher.force_login(people["ta"])
    grid = reverse("cohort-progress", args=[cohort.pk])
    assert 'data-state="by-hand"' in teacher.get(grid).content.decode()
    grade_by_hand(submission, [CellGradeInput("add-tests", score=2)], people["ta"])
    assert 'data-state="graded"' in teacher.get(grid).content.decode()
    assert ">2<" in teacher.get(grid).content.decode()  # the teacher sees the grade by hand
    student = Client()
    student.force_login(people["student"])
    own = student.get(reverse("my-progress", args=[cohort.pk])).content.decode()
    assert "0 / 3" in own  # not released to the student yet: the autograde
