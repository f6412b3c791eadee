"""Submissions (immutable bytes, stored before anything else happens) and their grades."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from learning.models import Assignment, Cohort


class Submission(models.Model):
    """One notebook a student handed in. Its bytes never change; only grading state moves."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Grading")
        GRADED = "graded", _("Graded")
        FAILED = "failed", _("Could not be graded")

    class Origin(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        SESSION = "session", _("From a session")
        API = "api", _("API")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="submissions")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    notebook = models.BinaryField(_("notebook bytes"))
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.UPLOAD)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: While a worker grades, it holds a lease; an expired lease means the worker died.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    #: Set while a regrade against another version's assignment is pending, so a worker that
    #: dies mid-regrade is replaced by one grading against the same source.
    regrade_against = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["cohort", "student", "assignment"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.student} {self.assignment.slug} @ {self.submitted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def assignment_slug(self) -> str:
        return self.assignment.slug


class Grade(models.Model):
    """The autograde of one submission: exactly one per submission, however often it runs."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="grade")
    graded_against = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="+", help_text=_("the source used")
    )
    raw_score = models.FloatField(_("raw score"))
    max_score = models.FloatField(_("maximum"))
    late_penalty_percent = models.FloatField(_("late penalty (%)"), default=0)
    score = models.FloatField(_("score after penalty"))
    device = models.CharField(_("graded on"), max_length=100)
    flags = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    feedback_html = models.TextField(blank=True)
    log = models.TextField(blank=True)
    duration_s = models.FloatField(default=0)
    #: Points the grader earned but held for a person's review (never in raw_score or score).
    held_points = models.FloatField(_("points held for review"), default=0)
    #: Points of cells only a GPU can grade, graded where there was none (the simulator): in
    #: max_score, earned by nobody yet, shown everywhere as waiting for a GPU grade.
    waiting_gpu_points = models.FloatField(_("points waiting for a GPU grade"), default=0)
    graded_at = models.DateTimeField(auto_now=True)


class CellScore(models.Model):
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="cells")
    cell_id = models.CharField(_("nbgrader grade_id"), max_length=200)
    points = models.FloatField()
    max_points = models.FloatField()
    status = models.CharField(max_length=32)
    message = models.TextField(blank=True)
    counted = models.BooleanField(default=True)
    #: The cell's points wait for review (not in the grade's score).
    held = models.BooleanField(default=False)

    class Meta:
        ordering = ["grade", "id"]


class GradeOverride(models.Model):
    """An instructor's score for a student's assignment, kept apart from the autograde."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="overrides")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    assignment_slug = models.SlugField()
    score = models.FloatField(_("score"))
    comment = models.TextField(_("comment"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "student", "assignment_slug"], name="one_override"
            )
        ]


class RegradeBatch(models.Model):
    """One instructor action: regrade every counted submission of an assignment in a cohort."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="regrades")
    assignment_slug = models.SlugField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    submissions = models.ManyToManyField(Submission, related_name="regrades")
    total = models.PositiveIntegerField(default=0)


class HiddenTestRelease(models.Model):
    """The instructor showed the hidden tests of an assignment to the cohort (after the due date)."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="hidden_test_releases"
    )
    assignment_slug = models.SlugField()
    released_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "assignment_slug"], name="one_hidden_release")
        ]


class CountingRule(models.TextChoices):
    LATEST = "latest", _("the latest valid submission")
    BEST = "best", _("the best valid submission")


class AssignmentPolicy(models.Model):
    """Which valid submission counts for an assignment; set from the course manifest's `counts`.

    Kept in the grading app (the learning app's `Assignment` stays about content); an assignment
    without a row counts its latest valid submission.
    """

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="grading_policy"
    )
    counts = models.CharField(
        _("submission that counts"),
        max_length=16,
        choices=CountingRule.choices,
        default=CountingRule.LATEST,
    )


class Review(models.Model):
    """A person's decision on a submission whose grade was held or flagged by the grader."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        RELEASED = "released", _("Held points released")
        ADJUSTED = "adjusted", _("Score adjusted")
        ZEROED = "zeroed", _("Scored zero")

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="review")
    decision = models.CharField(
        max_length=16, choices=Decision.choices, default=Decision.PENDING, db_index=True
    )
    #: The score that counts once decided (after any late penalty); None while pending.
    score = models.FloatField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class ManualGrade(models.Model):
    """A person's grade of one graded cell of a submission, as nbgrader's formgrader keeps it: a
    score that replaces the grader's points for that cell (None: the grader's stand), extra
    credit on top (the maximum is unchanged) and a comment for the student. Kept apart from the
    autograde, so a regrade never loses it."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="manual_grades"
    )
    cell_id = models.CharField(_("nbgrader grade_id"), max_length=200)
    score = models.FloatField(_("score"), null=True, blank=True)
    extra_credit = models.FloatField(_("extra credit"), default=0)
    comment = models.TextField(_("comment"), blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    graded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submission", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "cell_id"], name="one_manual_grade")
        ]


class ManualGradeRelease(models.Model):
    """The instructor released the grades by hand of an assignment to the cohort's students:
    until then they see the autograde only, with the cells that wait for a person marked."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="manual_releases")
    assignment_slug = models.SlugField()
    released_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "assignment_slug"], name="one_manual_release")
        ]
