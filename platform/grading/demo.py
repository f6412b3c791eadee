"""Demo submissions, so the progress grid, the feedback and the similarity pages show something
on a first run: a complete answer, the same answer copied with its names changed, a partial
attempt. They are queued like any upload; the run command's grading workers grade them."""

from __future__ import annotations

import io
import json
import re
import tokenize

from grading import services
from grading.models import Submission

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
#: A copier's renames: local names only, so the copy still defines what the tests call.
COPY_RENAMES = {"i": "idx", "v": "val", "d_x": "dev_in", "d_out": "dev_res", "out": "result"}


def _solutions(source_notebook: str) -> dict[str, str]:
    """grade_id -> the instructor's solution code, without the solution markers."""
    found = {}
    for cell in json.loads(source_notebook).get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution"):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            found[meta["grade_id"]] = _SOLUTION_MARKERS.sub("", source)
    return found


def renamed(code: str, renames: dict[str, str] = COPY_RENAMES) -> str:
    """`code` with the named identifiers renamed (token by token, strings left alone)."""
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NAME and tok.string in renames:
            tok = tok._replace(string=renames[tok.string])
        tokens.append(tok)
    return tokenize.untokenize(tokens)


def answered(assignment, answers: dict[str, str]) -> bytes:
    """The student release with the given answer cells filled in (the others left as given)."""
    notebook = json.loads(assignment.release_notebook)
    for cell in notebook.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return json.dumps(notebook, indent=1).encode()


def load_demo_submissions(cohort, students) -> list[str]:
    """Queue the demo's submissions once per cohort; returns lines for the command's output."""
    if Submission.objects.filter(cohort=cohort).exists() or len(students) < 3:
        return []
    first, copier, partial = students[:3]
    # The first assignment only: three small simulator notebooks, graded in seconds, so the run
    # command's first real submission does not queue behind a pile of demo work.
    assignment = cohort.version.assignments.order_by("position").first()
    solutions = _solutions(assignment.source_notebook)
    plan = [
        (first, solutions),
        (copier, {gid: renamed(code) for gid, code in solutions.items()}),
        (partial, dict(list(solutions.items())[:1])),  # the first exercise only
    ]
    for student, answers in plan:
        services.submit(
            cohort, student, assignment.slug, answered(assignment, answers),
            filename=assignment.release_filename,
        )  # fmt: skip
    queued = len(plan)
    return [f"  {queued} demo submissions queued for grading (progress, feedback, similarity)"]
