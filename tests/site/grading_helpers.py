import json

import nbformat

from grader.source import make_release, notebook_bytes
from tests.site.factories import tiny_notebook


def student_notebook(answer: str | None = "    return a + b", prelude: str = "") -> bytes:
    """The tiny course's release with the answer cell filled in (None leaves the stub)."""
    release = nbformat.from_dict(json.loads(notebook_bytes(make_release(tiny_notebook()))))
    if answer is not None:
        release.cells[1].source = f"{prelude}def add(a, b):\n{answer}"
    return notebook_bytes(release)


def database_url() -> str:
    """The test database as a DATABASE_URL, for a worker started in another process."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def grader_result(score: float, held: float = 0.0, flags=(), reasons=()):
    """A `grader.GradeResult` for the tiny course's one 3-point test, as the grader reports a
    submission whose points it awarded (`score`) or held for review (`held`)."""
    from grader.result import CellResult, GradeResult

    cell = CellResult(
        "add-tests", points=score + held, max_points=3, status="passed", held=held > 0
    )
    return GradeResult(
        cells=[cell],
        score=score,
        max_score=3,
        device="cuda-simulator",
        flags=list(flags),
        reasons=list(reasons),
        held_points=held,
    )


def held_review(cohort, student, answer: str = "    return a + b"):
    """A stored submission whose 3 points the grader held: its review waits in the queue."""
    from grading import services

    submission = services.submit(cohort, student, "add", student_notebook(answer))
    services.record_result(
        submission,
        submission.assignment,
        grader_result(
            0,
            held=3,
            flags=["review-needed"],
            reasons=["cell 2: reads the caller's frame (sys._getframe)"],
        ),
    )
    return submission.review
