"""Courses, their immutable published versions, and the cohorts that run them."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, ProtectedCountersMixin, validate_time_zone


class Course(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title

    @property
    def latest_version(self) -> CourseVersion | None:
        return self.versions.order_by("-number").first()


class CourseStaff(models.Model):
    """Who teaches a course across all its cohorts."""

    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", _("Instructor")
        TEACHING_ASSISTANT = "ta", _("Teaching assistant")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_roles"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_staff_role_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.course}"


class CourseVersion(models.Model):
    """A published snapshot of a course. Never edited: new content makes a new version."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    language = models.CharField(_("language"), max_length=16, default="en")
    gpu_profile = models.CharField(_("GPU profile hint"), max_length=64, blank=True)
    prerequisites = models.JSONField(_("prerequisites"), default=list)
    manifest = models.TextField(_("manifest (TOML)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["course", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="unique_version_number"),
            models.UniqueConstraint(
                fields=["course", "content_hash"], name="unique_version_content"
            ),
        ]
        verbose_name = _("course version")
        verbose_name_plural = _("course versions")

    def __str__(self) -> str:
        return f"{self.course.slug} v{self.number}"

    @property
    def total_points(self) -> float:
        return sum(a.points for a in self.assignments.all())


class Module(models.Model):
    version = models.ForeignKey(CourseVersion, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(_("slug"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    day = models.PositiveSmallIntegerField(_("suggested day"), null=True, blank=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_module_slug")
        ]

    def __str__(self) -> str:
        return self.title


class Assignment(models.Model):
    """One graded notebook of a course version, stored as instructor source and student release."""

    version = models.ForeignKey(CourseVersion, on_delete=models.CASCADE, related_name="assignments")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    slug = models.SlugField(_("slug"))
    title = models.CharField(_("title"), max_length=200)
    points = models.FloatField(_("points"))
    position = models.PositiveIntegerField()
    gpu_profile = models.CharField(_("GPU profile hint"), max_length=64, blank=True)
    notebook_path = models.CharField(_("notebook"), max_length=300)
    source_notebook = models.TextField(_("instructor source"))
    release_notebook = models.TextField(_("student release"))

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_assignment_slug")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def release_filename(self) -> str:
        return self.notebook_path.rsplit("/", 1)[-1]


class Cohort(ProtectedCountersMixin, models.Model):
    """A group of students taking one course version together."""

    class LatePolicy(models.TextChoices):
        NONE = "none", _("No late submissions")
        PENALTY_PER_DAY = "per_day", _("Penalty per day late, up to a cap")
        ZERO_AFTER_GRACE = "grace_zero", _("Full marks within a grace period, zero after")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="cohorts")
    version = models.ForeignKey(CourseVersion, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Seoul", validators=[validate_time_zone]
    )
    late_policy = models.CharField(
        _("late policy"), max_length=16, choices=LatePolicy.choices, default=LatePolicy.NONE
    )
    penalty_percent_per_day = models.FloatField(_("penalty per day (%)"), default=10)
    penalty_cap_percent = models.FloatField(_("maximum penalty (%)"), default=50)
    grace_hours = models.FloatField(_("grace period (hours)"), default=0)
    seat_limit = models.PositiveIntegerField(_("seat limit"), null=True, blank=True)
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self) -> str:
        return f"{self.course.title}: {self.name}"

    def is_running(self, today=None) -> bool:
        today = today or timezone.localdate(timezone=self.zone)
        return self.starts_on <= today <= self.ends_on


class AssignmentSchedule(models.Model):
    """When an assignment opens and is due in a cohort. Keyed by slug so it survives version moves."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="schedule")
    assignment_slug = models.SlugField(_("assignment"))
    release_at = models.DateTimeField(_("released at"))
    due_at = models.DateTimeField(_("due at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "assignment_slug"], name="one_schedule_per_assignment"
            )
        ]


class Enrolment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        TEACHING_ASSISTANT = "ta", _("Teaching assistant")
        INSTRUCTOR = "instructor", _("Instructor")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        CSV = "csv", _("CSV import")
        INVITE = "invite", _("Invite code")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STUDENT)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)

    class Meta:
        ordering = ["cohort", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="one_enrolment_per_cohort")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort} ({self.role})"


def new_invite_code() -> str:
    # Unambiguous characters: codes are read aloud and typed from slides.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class InviteCode(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="invite_codes")
    code = models.CharField(_("code"), max_length=32, unique=True, default=new_invite_code)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("maximum uses"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        if not self.active or (self.expires_at and self.expires_at <= now):
            return False
        return self.max_uses is None or self.uses < self.max_uses


class Extension(models.Model):
    """A later due time for one student on one assignment."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="extensions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    assignment_slug = models.SlugField(_("assignment"))
    due_at = models.DateTimeField(_("extended due time"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "user", "assignment_slug"], name="one_extension_per_assignment"
            )
        ]
