"""Publishing a course from the repository as an immutable version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from grading.services import set_counting_rule
from learning.manifest import CourseSpec, load_course
from learning.models import Assignment, Course, CourseStaff, CourseVersion, Module


@dataclass(frozen=True)
class PublishResult:
    version: CourseVersion
    created: bool


def available_course_slugs(courses_dir: Path | None = None) -> list[str]:
    courses_dir = courses_dir or settings.KC_COURSES_DIR
    if not courses_dir.is_dir():
        return []
    return sorted(p.parent.name for p in courses_dir.glob("*/course.toml"))


def publish_course(
    slug: str,
    by=None,
    courses_dir: Path | None = None,
    notebooks_dir: Path | None = None,
) -> PublishResult:
    """Validate `courses/<slug>` and store it as a new version, unless identical content exists.

    Raises `ManifestError` naming the file and cell when anything is wrong; nothing is stored then.
    """
    spec = load_course(
        slug, courses_dir or settings.KC_COURSES_DIR, notebooks_dir or settings.KC_NOTEBOOKS_DIR
    )
    content_hash = spec.content_hash()
    try:
        with transaction.atomic():
            return _store(spec, content_hash, by)
    except IntegrityError:
        # Two publishes of the same content raced; the other one stored it.
        existing = CourseVersion.objects.get(course__slug=slug, content_hash=content_hash)
        return PublishResult(existing, created=False)


def _store(spec: CourseSpec, content_hash: str, by) -> PublishResult:
    course, _ = Course.objects.get_or_create(
        slug=spec.slug, defaults={"title": spec.title, "summary": spec.summary}
    )
    existing = course.versions.filter(content_hash=content_hash).first()
    if existing:
        return PublishResult(existing, created=False)
    course.title, course.summary = spec.title, spec.summary
    course.save(update_fields=["title", "summary"])
    if by is not None and not by.is_staff:
        CourseStaff.objects.get_or_create(
            course=course, user=by, defaults={"role": CourseStaff.Role.INSTRUCTOR}
        )
    last = course.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = CourseVersion.objects.create(
        course=course,
        number=last + 1,
        content_hash=content_hash,
        title=spec.title,
        summary=spec.summary,
        language=spec.language,
        gpu_profile=spec.gpu_profile,
        prerequisites=spec.prerequisites,
        manifest=spec.manifest_text,
        published_by=by,
    )
    position = 0
    for m_position, module_spec in enumerate(spec.modules):
        module = Module.objects.create(
            version=version,
            slug=module_spec.slug,
            title=module_spec.title,
            summary=module_spec.summary,
            day=module_spec.day,
            position=m_position,
        )
        for a in module_spec.assignments:
            assignment = Assignment.objects.create(
                version=version,
                module=module,
                slug=a.slug,
                title=a.title,
                points=a.points,
                position=position,
                gpu_profile=a.gpu_profile,
                notebook_path=a.notebook_path,
                source_notebook=a.source_notebook,
                release_notebook=a.release_notebook,
            )
            set_counting_rule(assignment, a.counts)
            position += 1
    return PublishResult(version, created=True)
