"""Grading by hand: per cell a score, extra credit and a comment; totals agree on every page and in
the CSV; a TA grades, only an instructor releases; GPU-only cells wait the same everywhere."""

import ast
import csv
import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from grading import services, services_manual
from grading.models import Grade, ManualGrade
from grading.services_manual import CellGradeInput, ManualGradingError
from tests.site.grading_helpers import student_notebook

pytestmark = pytest.mark.django_db

GRADING = Path(__file__).resolve().parents[2] / "platform" / "grading"


def graded(published, student, cells):
    """A submission of `student` recorded with the grader's `cells`: (grade_id, points, max,
    status, counted)."""
    submission = services.submit(published["cohort"], student, "add", student_notebook())
    services.record_result(submission, submission.assignment, _result(cells))
    submission.refresh_from_db()
    return submission


def _result(cells):
    from grader.result import CellResult, GradeResult

    results = [CellResult(g, p, m, status, "", counted) for g, p, m, status, counted in cells]
    return GradeResult(
        cells=results,
        score=sum(c.points for c in results if c.counted),
        max_score=sum(c.max_points for c in results if c.counted),
        device="cuda-simulator",
    )


WRITTEN = [
    ("add-tests", 3.0, 3.0, "passed", True),
    ("essay", 0.0, 2.0, "needs-manual-grade", True),
]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def gradebook_csv(client, cohort) -> dict:
    response = client.get(reverse("gradebook-csv", args=[cohort.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    return rows[0]


def test_total_is_autograde_plus_grades_by_hand_on_every_page(published, people):
    cohort, student = published["cohort"], people["student"]
    submission = graded(published, student, WRITTEN)
    ta, instructor = client_for(people["ta"]), client_for(people["instructor"])
    cell = submission.grade.cells.get(cell_id="essay")
    desk = ta.get(reverse("manual-desk", args=[cohort.pk, "add"]))
    assert "0 of 1 graded" in desk.content.decode()

    response = ta.post(
        reverse("manual-grade", args=[submission.pk]),
        {
            f"cell-{cell.pk}": "1",
            f"score-{cell.pk}": "1.5",
            f"extra-{cell.pk}": "0.5",
            f"comment-{cell.pk}": "Good start; say why the square appears.",
            "then": "stay",
        },
    )
    assert response.status_code == 302
    assert ManualGrade.objects.get(submission=submission, cell_id="essay").graded_by == people["ta"]
    from audit.models import AuditEntry

    entry = AuditEntry.objects.get(action="grading.manual_grade")
    assert (entry.actor, entry.subject, entry.before) == (people["ta"], student, {})
    assert entry.after["essay"]["score"] == 1.5
    assert (
        "1 of 1 graded" in ta.get(reverse("manual-desk", args=[cohort.pk, "add"])).content.decode()
    )

    # Staff see autograde + by hand everywhere: 3 + 1.5 + 0.5.
    row = gradebook_csv(instructor, cohort)
    assert float(row["add"]) == 5.0 and float(row["total"]) == 5.0
    assert row["add_by_hand_waiting"] == "0"
    page = instructor.get(reverse("gradebook", args=[cohort.pk])).content.decode()
    assert "<strong>5</strong>" in page

    # The student sees the autograde until the instructor releases, then the total and comment.
    mine = client_for(student)
    before = mine.get(reverse("submission-detail", args=[submission.pk])).content.decode()
    assert "<strong>3</strong> / 5" in before and "say why the square" not in before
    assert ta.post(reverse("manual-release", args=[cohort.pk, "add"])).status_code == 403
    assert instructor.post(reverse("manual-release", args=[cohort.pk, "add"])).status_code == 302
    assert AuditEntry.objects.filter(
        action="grading.manual_release", actor=people["instructor"]
    ).exists()
    after = mine.get(reverse("submission-detail", args=[submission.pk])).content.decode()
    assert "<strong>5</strong> / 5" in after and "say why the square" in after
    cohort_page = mine.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
    assert "5 / " in cohort_page  # (the tiny course's source has no essay: its maximum is 3)


def test_a_manual_score_replaces_the_graders_points_of_that_cell(published, people):
    submission = graded(published, people["student"], WRITTEN)
    services_manual.grade_by_hand(
        submission, [CellGradeInput("add-tests", score=1.0, comment="hard-coded")], people["ta"]
    )
    row = gradebook_csv(client_for(people["instructor"]), published["cohort"])
    assert float(row["add"]) == 1.0  # 3 replaced by 1; the essay still waits
    assert row["add_by_hand_waiting"] == "1"
    # Clearing the entry gives the grader's points back.
    services_manual.grade_by_hand(submission, [CellGradeInput("add-tests")], people["ta"])
    assert float(gradebook_csv(client_for(people["instructor"]), published["cohort"])["add"]) == 3


@pytest.mark.parametrize(
    "entry, reason",
    [
        (CellGradeInput("essay", score=2.5), "between 0 and 2"),
        (CellGradeInput("essay", score=-1), "between 0 and 2"),
        (CellGradeInput("essay", extra_credit=-1), "negative"),
        (CellGradeInput("nope", score=1), "no graded cell"),
        (CellGradeInput("speed", score=1), "GPU"),
    ],
)
def test_grades_by_hand_are_checked(published, people, entry, reason):
    submission = graded(
        published, people["student"], [*WRITTEN, ("speed", 0.0, 1.0, "skipped-on-simulator", False)]
    )
    with pytest.raises(ManualGradingError, match=reason):
        services_manual.grade_by_hand(submission, [entry], people["ta"])
    assert not ManualGrade.objects.exists()


def test_blind_mode_hides_names_on_the_desk_and_its_pages(published, people):
    cohort = published["cohort"]
    people["student"].first_name = "Seoyeon"
    people["student"].save()
    submission = graded(published, people["student"], WRITTEN)
    ta = client_for(people["ta"])
    desk = reverse("manual-desk", args=[cohort.pk, "add"])
    assert "Seoyeon" in ta.get(desk).content.decode()
    hidden = ta.get(desk + "?blind=1").content.decode()
    assert "Seoyeon" not in hidden and "#1" in hidden
    page = ta.get(reverse("manual-grade", args=[submission.pk])).content.decode()
    assert "Seoyeon" not in page and ">stud<" not in page and "Submission #" not in page
    assert "Seoyeon" in ta.get(desk + "?blind=0").content.decode()


def test_the_grading_page_shows_each_cell_with_the_autograde_and_the_keys(published, people):
    submission = graded(published, people["student"], WRITTEN)
    page = client_for(people["ta"]).get(reverse("manual-grade", args=[submission.pk]))
    html = page.content.decode()
    assert 'data-grade-id="add-tests"' in html and 'data-grade-id="essay"' in html
    assert "def add(a, b)" in html  # the student's own code
    assert "<kbd>j</kbd>" in html and "grading/manual.js" in html
    assert "<code>add(a, b)</code>" in html  # markdown rendered, as the student sees it


def test_the_students_markdown_is_sanitized_and_its_maths_kept(published, people):
    import json

    data = json.loads(student_notebook())
    data["cells"].append(
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "<script>alert(1)</script><b onclick='x()'>bold</b> $\\sum_i i^2$",
        }
    )
    submission = services.submit(
        published["cohort"], people["student"], "add", json.dumps(data).encode()
    )
    services.record_result(submission, submission.assignment, _result(WRITTEN))
    html = client_for(people["ta"]).get(reverse("manual-grade", args=[submission.pk]))
    html = html.content.decode()
    assert "<script>alert" not in html and "<b onclick" not in html  # never live markup
    assert 'class="kc-math" data-math="inline"' in html and "katex.min.js" in html


def test_gpu_only_cells_wait_with_the_same_maximum_everywhere(published, people):
    """The grader excludes a GPU-only cell on the simulator; the site keeps it in the maximum as
    waiting for a GPU grade, on the submission page, the gradebook and in the CSV alike."""
    cohort = published["cohort"]
    submission = graded(
        published,
        people["student"],
        [
            ("add-tests", 3.0, 3.0, "passed", True),
            ("speed", 0.0, 1.0, "skipped-on-simulator", False),
        ],
    )
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.max_score, grade.waiting_gpu_points) == (3, 4, 1)
    instructor = client_for(people["instructor"])
    row = gradebook_csv(instructor, cohort)
    assert (float(row["add"]), float(row["add_max"]), float(row["add_gpu_waiting"])) == (3, 4, 1)
    page = instructor.get(reverse("gradebook", args=[cohort.pk])).content.decode()
    assert "/ 4" in page and "wait for a GPU" in page
    mine = client_for(people["student"]).get(reverse("submission-detail", args=[submission.pk]))
    assert "<strong>3</strong> / 4" in mine.content.decode()
    assert "waits for a GPU grade" in mine.content.decode()


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_services_split_without_an_import_loop():
    """Web side enqueues through tasks; the task body (worker side) imports neither back."""
    assert "grading.services" not in _imports(GRADING / "tasks.py")
    worker = _imports(GRADING / "services_worker.py")
    assert not {"grading.services", "grading.tasks", "grading.services_recovery"} & worker
    assert "grading.tasks" in _imports(GRADING / "services.py")


def test_cells_waiting_for_a_gpu_are_graded_on_a_gpu_worker_later(published, people, settings):
    """Where GPU workers exist, a grade with waiting GPU cells is sent to them once, against the
    same source; their grade replaces it, nothing waits and the total follows."""
    from django_tasks_db.models import DBTaskResult

    from grading import tasks

    waiting = [
        ("add-tests", 3.0, 3.0, "passed", True),
        ("speed", 0.0, 1.0, "skipped-on-simulator", False),
    ]
    submission = graded(published, people["student"], waiting)
    settings.KC_GRADING_GPU_QUEUE = False
    assert not tasks.send_gpu_cells_to_gpu(submission.pk)
    settings.KC_GRADING_GPU_QUEUE = True
    assert tasks.send_gpu_cells_to_gpu(submission.pk)
    sent = DBTaskResult.objects.get(queue_name="grading-gpu")
    assert sent.args_kwargs == {
        "args": [submission.pk, submission.assignment_id],
        "kwargs": {"on_gpu": True},
    }
    on_gpu = [("add-tests", 3.0, 3.0, "passed", True), ("speed", 1.0, 1.0, "passed", True)]
    services.record_result(submission, submission.assignment, _result(on_gpu))
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.max_score, grade.waiting_gpu_points) == (4, 4, 0)
    assert not tasks.send_gpu_cells_to_gpu(submission.pk)
    row = gradebook_csv(client_for(people["instructor"]), published["cohort"])
    assert (float(row["add"]), float(row["add_max"]), float(row["add_gpu_waiting"])) == (4, 4, 0)
