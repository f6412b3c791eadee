"""Reading `courses/<slug>/course.toml` and the notebooks it names, with errors that say where."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.source import SourceError, make_release, notebook_bytes, read_notebook, validate_source

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Which of a student's valid submissions counts (`counts` of an assignment).
COUNTING_RULES = ("latest", "best")


class ManifestError(ValueError):
    """A course that cannot be published; the message names the file (and cell, for notebooks)."""


@dataclass
class AssignmentSpec:
    slug: str
    title: str
    notebook_path: str
    points: float
    gpu_profile: str
    #: Which valid submission counts: "latest" (the default) or "best".
    counts: str = "latest"
    source_notebook: str = ""
    release_notebook: str = ""
    source_sha256: str = ""


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    day: int | None
    assignments: list[AssignmentSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    language: str
    gpu_profile: str
    prerequisites: list[str]
    manifest_text: str
    modules: list[ModuleSpec]

    @property
    def assignments(self) -> list[AssignmentSpec]:
        return [a for m in self.modules for a in m.assignments]

    def content_hash(self) -> str:
        """Hash of everything a version is made of: the manifest and every source notebook."""
        digest = hashlib.sha256(self.manifest_text.encode())
        for assignment in self.assignments:
            digest.update(b"\0" + assignment.notebook_path.encode() + b"\0")
            digest.update(assignment.source_sha256.encode())
        return digest.hexdigest()


def _require(table: dict, key: str, kind: type, where: str, path: str, default=None):
    value = table.get(key, default)
    if value is None:
        raise ManifestError(f"{path}: {where} is missing '{key}'")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ManifestError(
            f"{path}: {where} has '{key}' of the wrong type (expected {kind.__name__})"
        )
    return value


def _slug(value: str, where: str, path: str) -> str:
    if not SLUG_RE.match(value):
        raise ManifestError(
            f"{path}: {where} has slug '{value}'; use lowercase letters, digits and dashes"
        )
    return value


def load_course(slug: str, courses_dir: Path, notebooks_dir: Path) -> CourseSpec:
    """Read and validate a course and all its notebooks, building each student release."""
    manifest_path = courses_dir / slug / "course.toml"
    shown = f"courses/{slug}/course.toml"
    if not manifest_path.is_file():
        raise ManifestError(f"{shown}: no such file (is '{slug}' a course in {courses_dir}?)")
    text = manifest_path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{shown}: invalid TOML ({exc})") from exc

    modules_raw = data.get("modules")
    if not isinstance(modules_raw, list) or not modules_raw:
        raise ManifestError(f"{shown}: needs at least one [[modules]] table")
    course = CourseSpec(
        slug=_slug(slug, "the course", shown),
        title=_require(data, "title", str, "the course", shown),
        summary=_require(data, "summary", str, "the course", shown, default=""),
        language=_require(data, "language", str, "the course", shown, default="en"),
        gpu_profile=_require(data, "gpu_profile", str, "the course", shown, default=""),
        prerequisites=list(_require(data, "prerequisites", list, "the course", shown, default=[])),
        manifest_text=text,
        modules=[],
    )
    seen_modules: set[str] = set()
    seen_assignments: set[str] = set()
    for m_index, raw in enumerate(modules_raw, start=1):
        where = f"module {m_index}"
        module = ModuleSpec(
            slug=_slug(_require(raw, "slug", str, where, shown), where, shown),
            title=_require(raw, "title", str, where, shown),
            summary=_require(raw, "summary", str, where, shown, default=""),
            day=raw.get("day"),
        )
        if module.slug in seen_modules:
            raise ManifestError(f"{shown}: {where} repeats module slug '{module.slug}'")
        seen_modules.add(module.slug)
        for a_index, araw in enumerate(raw.get("assignments", []), start=1):
            a_where = f"module '{module.slug}', assignment {a_index}"
            assignment = AssignmentSpec(
                slug=_slug(_require(araw, "slug", str, a_where, shown), a_where, shown),
                title=_require(araw, "title", str, a_where, shown),
                notebook_path=_require(araw, "notebook", str, a_where, shown),
                points=_require(araw, "points", float, a_where, shown),
                gpu_profile=araw.get("gpu_profile", course.gpu_profile),
                counts=_require(araw, "counts", str, a_where, shown, default="latest"),
            )
            if assignment.counts not in COUNTING_RULES:
                raise ManifestError(
                    f"{shown}: {a_where} has counts = '{assignment.counts}'; "
                    f"use one of {', '.join(COUNTING_RULES)}"
                )
            if assignment.slug in seen_assignments:
                raise ManifestError(
                    f"{shown}: {a_where} repeats assignment slug '{assignment.slug}'"
                )
            seen_assignments.add(assignment.slug)
            _load_notebook(assignment, notebooks_dir, shown)
            module.assignments.append(assignment)
        course.modules.append(module)
    if not course.assignments:
        raise ManifestError(f"{shown}: the course has no assignments")
    return course


def _load_notebook(assignment: AssignmentSpec, notebooks_dir: Path, manifest_shown: str) -> None:
    relative = Path(assignment.notebook_path)
    shown = f"notebooks/{assignment.notebook_path}"
    if relative.is_absolute() or ".." in relative.parts:
        raise ManifestError(
            f"{manifest_shown}: notebook path '{relative}' must stay inside notebooks/"
        )
    path = notebooks_dir / relative
    if not path.is_file():
        raise ManifestError(
            f"{shown}: missing (named by assignment '{assignment.slug}' in {manifest_shown})"
        )
    raw = path.read_bytes()
    assignment.source_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        nb = read_notebook(raw, shown)
        summary = validate_source(nb, shown)
        release = make_release(nb, shown)
    except SourceError as exc:
        raise ManifestError(str(exc)) from exc
    if abs(summary.total_points - assignment.points) > 1e-9:
        raise ManifestError(
            f"{shown}: graded cells total {summary.total_points:g} points but {manifest_shown} "
            f"gives assignment '{assignment.slug}' {assignment.points:g}"
        )
    assignment.source_notebook = notebook_bytes(nb).decode()
    assignment.release_notebook = notebook_bytes(release).decode()
