"""Small builders for test data: a course on disk, users, a published cohort."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import nbformat
from django.utils import timezone

MANIFEST = """title = "Tiny course"
summary = "For tests."
language = "en"
gpu_profile = "cpu-simulator"

[[modules]]
slug = "basics"
title = "Basics"
day = 1

[[modules.assignments]]
slug = "add"
title = "Adding"
notebook = "tiny/add.ipynb"
points = 3
"""


def tiny_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    intro = nbformat.v4.new_markdown_cell("Write `add(a, b)`.")
    answer = nbformat.v4.new_code_cell(
        "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
    )
    answer.metadata["nbgrader"] = {
        "solution": True,
        "grade": False,
        "locked": False,
        "grade_id": "add-answer",
        "schema_version": 3,
    }
    test = nbformat.v4.new_code_cell(
        "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0\n### END HIDDEN TESTS"
    )
    test.metadata["nbgrader"] = {
        "solution": False,
        "grade": True,
        "locked": True,
        "grade_id": "add-tests",
        "points": 3,
        "schema_version": 3,
    }
    nb.cells = [intro, answer, test]
    return nb


def write_course(
    root: Path, manifest: str = MANIFEST, notebook: dict | str | None = None
) -> tuple[Path, Path]:
    """Lay out courses/tiny/course.toml and notebooks/tiny/add.ipynb under root."""
    courses, notebooks = root / "courses", root / "notebooks"
    (courses / "tiny").mkdir(parents=True, exist_ok=True)
    (notebooks / "tiny").mkdir(parents=True, exist_ok=True)
    (courses / "tiny" / "course.toml").write_text(manifest)
    if notebook is None:
        notebook = tiny_notebook()
    text = notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1)
    (notebooks / "tiny" / "add.ipynb").write_text(text)
    return courses, notebooks


def make_user(username: str, **extra):
    from accounts.models import User

    user = User.objects.create_user(
        username, f"{username}@example.org", "pw-for-tests-123", **extra
    )
    return user


def open_cohort(course, instructor=None, **kwargs):
    from learning.services.cohorts import create_cohort

    today = timezone.localdate()
    cohort = create_cohort(
        course,
        "Spring",
        today - timedelta(days=1),
        today + timedelta(days=20),
        by=instructor,
        **kwargs,
    )
    cohort.schedule.update(release_at=timezone.now() - timedelta(hours=1))
    return cohort


def make_event(slug: str = "gpu-hackathon", **roles):
    """An event; `roles` maps a role name to a list of users holding it."""
    from datetime import timedelta

    from accounts.models import Organization
    from events.models import Event, EventRole

    org, _ = Organization.objects.get_or_create(
        slug="org", defaults={"name": "Org", "kind": "university"}
    )
    now = timezone.now()
    event = Event.objects.create(
        slug=slug,
        organization=org,
        title="GPU Hackathon",
        starts_at=now,
        ends_at=now + timedelta(days=2),
    )
    for role, users in roles.items():
        for user in users:
            EventRole.objects.create(event=event, user=user, role=role)
    return event
