"""Reads of grades: what counts, the gradebook, analytics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grading.models import (
    AssignmentPolicy,
    CellScore,
    CountingRule,
    GradeOverride,
    HiddenTestRelease,
    ManualGradeRelease,
    Review,
    Submission,
)
from learning.models import Cohort, Enrolment

INVALID_SUBMISSION = "invalid-submission"  # grader.result.INVALID_SUBMISSION, without importing
NEEDS_MANUAL = "needs-manual-grade"  # grader.result.NEEDS_MANUAL


def counting_rules(cohort: Cohort) -> dict[str, str]:
    """Assignment slug -> CountingRule value, for the cohort's current version."""
    rules = dict(
        AssignmentPolicy.objects.filter(assignment__version_id=cohort.version_id).values_list(
            "assignment__slug", "counts"
        )
    )
    slugs = cohort.version.assignments.values_list("slug", flat=True)
    return {slug: rules.get(slug, CountingRule.LATEST) for slug in slugs}


def counting_rule(assignment) -> str:
    policy = AssignmentPolicy.objects.filter(assignment=assignment).first()
    return policy.counts if policy else CountingRule.LATEST


def is_valid(submission: Submission) -> bool:
    """Graded, and not refused by the grader: only such a submission can count. (A submission
    being regraded keeps its previous grade until the new one is written.)"""
    grade = getattr(submission, "grade", None)
    return grade is not None and INVALID_SUBMISSION not in grade.flags


def manual_released(cohort_id: int, slug: str) -> bool:
    """Whether the instructor released the grades by hand of an assignment to the students."""
    return ManualGradeRelease.objects.filter(cohort_id=cohort_id, assignment_slug=slug).exists()


def manual_adjustment(
    submission: Submission, released_only: bool = False, held_released: bool = False
) -> float:
    """What grades by hand add to the autograde, before any late penalty (nbgrader's rule): a
    cell a person scored counts their score instead of the grader's points, and extra credit
    comes on top. Cells not counted (GPU-only cells on the simulator) take no grade by hand.
    With `released_only` (a student's view): nothing until the instructor released them."""
    manual = list(submission.manual_grades.all())
    if not manual or (
        released_only and not manual_released(submission.cohort_id, submission.assignment.slug)
    ):
        return 0.0
    cells = {c.cell_id: c for c in submission.grade.cells.all()}
    delta = 0.0
    for entry in manual:
        cell = cells.get(entry.cell_id)
        if cell is None or not cell.counted:
            continue
        if entry.score is not None:
            delta += entry.score - (cell.points if held_released or not cell.held else 0.0)
        delta += entry.extra_credit
    return delta


def effective_score(submission: Submission, released_only: bool = False) -> float | None:
    """The score a submission earns now: the autograde with the grades by hand, or a reviewer's
    decision on it (an adjusted or zeroed score is the whole score).

    Held points count only once released; None for a submission that is not valid. With
    `released_only` (what its student sees), grades by hand count once released to students.
    """
    if not is_valid(submission):
        return None
    grade = submission.grade
    review = getattr(submission, "review", None)
    decided = review is not None and review.decision != "pending" and review.score is not None
    if decided and review.decision != Review.Decision.RELEASED:
        return review.score
    by_hand = manual_adjustment(submission, released_only, held_released=decided)
    if not by_hand:
        return review.score if decided else grade.score
    raw = grade.raw_score + (grade.held_points if decided else 0.0) + by_hand
    return round(max(0.0, raw) * (1 - grade.late_penalty_percent / 100), 4)


def counted_submissions(cohort: Cohort, student=None) -> dict[tuple[int, str], Submission]:
    """The submission that counts for each (student, assignment): the one rule every page uses.

    Only valid submissions (graded, not refused by the grader) can count; among them the
    assignment's rule picks the latest to arrive (ties in the same second by id) or the one with
    the best effective score (ties to the later). Where a student has no valid submission yet,
    the latest one is returned so its status shows, with no score.
    """
    rules = counting_rules(cohort)
    rows = (
        Submission.objects.filter(cohort=cohort)
        .select_related("assignment", "grade", "review")
        .prefetch_related("manual_grades")
        .defer("notebook", "grade__feedback_html", "grade__log")
        .order_by("submitted_at", "id")
    )
    if student is not None:
        rows = rows.filter(student=student)
    counted: dict[tuple[int, str], Submission] = {}
    best: dict[tuple[int, str], float] = {}
    for submission in rows:
        key = (submission.student_id, submission.assignment.slug)
        current = counted.get(key)
        if not is_valid(submission):
            if current is None or not is_valid(current):
                counted[key] = submission
            continue
        score = effective_score(submission)
        if rules.get(key[1]) == CountingRule.BEST and key in best and score < best[key]:
            continue
        counted[key] = submission
        best[key] = score
    return counted


def _overrides(cohort: Cohort, student=None) -> dict[tuple[int, str], GradeOverride]:
    rows = GradeOverride.objects.filter(cohort=cohort)
    if student is not None:
        rows = rows.filter(student=student)
    return {(o.student_id, o.assignment_slug): o for o in rows}


@dataclass
class GradebookCell:
    submission: Submission | None
    override: GradeOverride | None

    @property
    def grade(self):
        submission = self.submission
        if submission is None or not is_valid(submission):
            return None
        return submission.grade

    @property
    def review(self) -> Review | None:
        return getattr(self.submission, "review", None) if self.grade else None

    @property
    def score(self) -> float | None:
        if self.override is not None:
            return self.override.score
        return effective_score(self.submission) if self.submission else None

    @property
    def released_score(self) -> float | None:
        """The score its student sees: grades by hand only once released."""
        if self.override is not None:
            return self.override.score
        return effective_score(self.submission, released_only=True) if self.submission else None

    @property
    def max_score(self) -> float | None:
        """The assignment's maximum, GPU-only cells included (they wait, never leave it)."""
        return self.grade.max_score if self.grade else None

    @property
    def waiting_gpu(self) -> float:
        """Points of cells only a GPU can grade, not graded yet (graded on the simulator)."""
        return self.grade.waiting_gpu_points if self.grade else 0.0

    @property
    def waiting_by_hand(self) -> int:
        """Cells that wait for a person's grade."""
        return cells_waiting_by_hand(self.submission) if self.grade else 0

    @property
    def held_points(self) -> float:
        review = self.review
        if self.grade is None or (review is not None and review.decision != "pending"):
            return 0.0
        return self.grade.held_points

    @property
    def status(self) -> str:
        if self.submission is None:
            return "overridden" if self.override else ""
        return self.submission.status

    @property
    def flags(self) -> list[str]:
        submission = self.submission
        grade = getattr(submission, "grade", None) if submission else None
        return list(grade.flags) if grade else []


def scores_by_assignment(cohort: Cohort, user) -> dict[str, tuple[str, float | None]]:
    counted = counted_submissions(cohort, user)
    overrides = _overrides(cohort, user)
    slugs = {slug for (_uid, slug) in counted} | {slug for (_uid, slug) in overrides}
    result = {}
    for slug in slugs:
        cell = GradebookCell(counted.get((user.pk, slug)), overrides.get((user.pk, slug)))
        # The student's own view: grades by hand count once released to them.
        result[slug] = (cell.status, cell.released_score)
    return result


@dataclass
class GradebookRow:
    student: object
    cells: list[GradebookCell] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(c.score or 0 for c in self.cells)


def gradebook(cohort: Cohort) -> tuple[list, list[GradebookRow]]:
    """Assignments (each with `.counting_rule`) and one row per student of what counts."""
    assignments = list(cohort.version.assignments.order_by("position"))
    rules = counting_rules(cohort)
    for assignment in assignments:
        assignment.counting_rule = rules[assignment.slug]
    counted = counted_submissions(cohort)
    _attach_waiting_by_hand(list(counted.values()))
    overrides = _overrides(cohort)
    students = [
        e.user
        for e in cohort.enrolments.filter(role=Enrolment.Role.STUDENT)
        .select_related("user")
        .order_by("user__username")
    ]
    rows = []
    for student in students:
        row = GradebookRow(student)
        for assignment in assignments:
            key = (student.pk, assignment.slug)
            row.cells.append(GradebookCell(counted.get(key), overrides.get(key)))
        rows.append(row)
    return assignments, rows


def _attach_waiting_by_hand(submissions: list[Submission]) -> None:
    """One query for the whole gradebook instead of one per cell: each valid submission gets
    `_cells_by_hand`, the ids of its cells the grader left for a person."""
    valid = {s.pk: s for s in submissions if is_valid(s)}
    for submission in valid.values():
        submission._cells_by_hand = set()
    rows = CellScore.objects.filter(
        grade__submission__in=list(valid), status=NEEDS_MANUAL, counted=True
    ).values_list("grade__submission_id", "cell_id")
    for submission_id, cell_id in rows:
        valid[submission_id]._cells_by_hand.add(cell_id)


def cells_waiting_by_hand(submission: Submission) -> int:
    """Cells of a graded submission that wait for a person: the grader left them (tasks and
    answered written or code answers) and nobody has scored them yet."""
    scored = {m.cell_id for m in submission.manual_grades.all() if m.score is not None}
    by_hand = getattr(submission, "_cells_by_hand", None)
    if by_hand is None:
        waiting = submission.grade.cells.filter(status=NEEDS_MANUAL, counted=True)
        by_hand = set(waiting.values_list("cell_id", flat=True))
    return len(by_hand - scored)


def score_distribution(cohort: Cohort) -> dict[str, list[float]]:
    assignments, rows = gradebook(cohort)
    return {
        a.slug: [row.cells[i].score for row in rows if row.cells[i].score is not None]
        for i, a in enumerate(assignments)
    }


def most_failed_tests(cohort: Cohort, limit: int = 10) -> list[tuple[str, str, int, int]]:
    """(assignment, grade_id, failures, attempts) over counted graded submissions, worst first."""
    grade_ids = [s.grade.pk for s in counted_submissions(cohort).values() if is_valid(s)]
    failures: Counter = Counter()
    attempts: Counter = Counter()
    for cell in CellScore.objects.filter(grade__in=grade_ids, counted=True).select_related(
        "grade__submission__assignment"
    ):
        key = (cell.grade.submission.assignment.slug, cell.cell_id)
        attempts[key] += 1
        if cell.points < cell.max_points:
            failures[key] += 1
    ranked = sorted(failures.items(), key=lambda item: (-item[1], item[0]))
    return [(slug, gid, n, attempts[(slug, gid)]) for (slug, gid), n in ranked[:limit]]


def hidden_tests_released(cohort: Cohort, slug: str) -> bool:
    return HiddenTestRelease.objects.filter(cohort=cohort, assignment_slug=slug).exists()


def submission_history(cohort: Cohort, student, slug: str) -> list[Submission]:
    """A student's submissions of one assignment, newest first, each with `.counts` (the one
    `counted_submissions` picks) and `.effective_score`."""
    counted = counted_submissions(cohort, student).get((student.pk, slug))
    history = list(
        Submission.objects.filter(cohort=cohort, student=student, assignment__slug=slug)
        .select_related("assignment", "grade", "review")
        .prefetch_related("manual_grades")
        .defer("notebook", "grade__feedback_html", "grade__log")
        .order_by("-submitted_at", "-id")
    )
    for submission in history:
        submission.counts = (
            counted is not None and counted.pk == submission.pk and is_valid(submission)
        )
        submission.effective_score = effective_score(submission, released_only=True)
    return history


def regrade_progress(batch) -> dict[str, int]:
    statuses = Counter(batch.submissions.values_list("status", flat=True))
    # Only grades written after the request count: a row still reading "graded" from before has
    # simply not been claimed yet.
    regraded = batch.submissions.filter(
        status=Submission.Status.GRADED, grade__graded_at__gte=batch.requested_at
    ).count()
    done = regraded + statuses.get(Submission.Status.FAILED, 0)
    return {"total": batch.total, "done": done, "by_status": dict(statuses)}


def hidden_test_sources(assignment) -> list[tuple[str, str]]:
    """(grade_id, code) of each test cell in the instructor source, hidden tests included."""
    import nbformat

    nb = nbformat.reads(assignment.source_notebook, as_version=4)
    tests = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
            tests.append((meta.get("grade_id", ""), cell.source))
    return tests


# --- review queue -------------------------------------------------------------------------------

#: Longest piece of student code shown on a review page; a notebook can be megabytes.
REVIEW_CODE_CHARS = 20_000


def review_queue(cohort: Cohort) -> list[Review]:
    """Held or flagged submissions of a cohort still waiting for a decision, oldest first, each
    with `.counts_now` (whether it is the student's counting submission as things stand)."""
    reviews = list(
        Review.objects.filter(submission__cohort=cohort, decision=Review.Decision.PENDING)
        .select_related("submission__student", "submission__assignment", "submission__grade")
        .defer("submission__notebook", "submission__grade__feedback_html", "submission__grade__log")
        .order_by("created_at", "id")
    )
    counted = {s.pk for s in counted_submissions(cohort).values()}
    for review in reviews:
        review.counts_now = review.submission_id in counted
    return reviews


def decided_reviews(cohort: Cohort, limit: int = 20) -> list[Review]:
    return list(
        Review.objects.filter(submission__cohort=cohort)
        .exclude(decision=Review.Decision.PENDING)
        .select_related("submission__student", "submission__assignment", "decided_by")
        .defer("submission__notebook")
        .order_by("-decided_at")[:limit]
    )


@dataclass
class CodeCell:
    """A code cell of the submission, numbered as the grader's reasons number it ("cell 15")."""

    number: int
    text: str
    answer: bool  # written or changed by the student; False: given code exactly as handed out


@dataclass
class ReviewRow:
    """One graded test with the student's code that runs before it."""

    grade_id: str
    student_code: list[CodeCell]
    test_source: str
    cell: CellScore | None


def _cut(text: str) -> str:
    if len(text) <= REVIEW_CODE_CHARS:
        return text
    return text[:REVIEW_CODE_CHARS] + f"\n… ({len(text) - REVIEW_CODE_CHARS} more characters)"


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def code_beside_tests(submission: Submission) -> list[ReviewRow]:
    """The student's code cells, grouped before each graded test of the instructor source
    (hidden tests included: only staff see this)."""
    import json

    grade = submission.grade
    source = json.loads(grade.graded_against.source_notebook)
    tests, given = {}, {}
    for cell in source.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.get("cell_type") == "code":
            tests[meta.get("grade_id")] = _source_text(cell)
        elif cell.get("cell_type") == "code" and meta.get("grade_id") and not meta.get("solution"):
            given[meta["grade_id"]] = _source_text(cell)
    scores = {c.cell_id: c for c in grade.cells.all()}
    try:
        student_cells = json.loads(bytes(submission.notebook)).get("cells", [])
    except (ValueError, RecursionError, AttributeError):
        student_cells = []
    rows, pending, seen = [], [], set()
    for index, cell in enumerate(student_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None
        text = _source_text(cell)
        if grade_id in tests and grade_id not in seen:
            seen.add(grade_id)
            # The test as the grader ran it (from the source), not the student's copy of it.
            rows.append(ReviewRow(grade_id, pending, tests[grade_id], scores.get(grade_id)))
            pending = []
        elif text.strip():
            # Given code as the source has it folds away; an answer cell, a cell the student
            # added and given code they changed stay open (the reasons point at them by number).
            unchanged = grade_id in given and given[grade_id].strip() == text.strip()
            pending.append(CodeCell(index + 1, _cut(text), not unchanged))
    for grade_id, test in tests.items():
        if grade_id not in seen:
            rows.append(ReviewRow(grade_id, [], test, scores.get(grade_id)))
    if pending:
        rows.append(ReviewRow("", pending, "", None))
    return rows
