"""Pages for instructors and teaching assistants."""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.permissions import can, require
from learning import selectors
from learning.forms import (
    AddMemberForm,
    CohortForm,
    CsvForm,
    ExtensionForm,
    InviteForm,
    LatePolicyForm,
)
from learning.manifest import ManifestError
from learning.models import Cohort, Course, CourseStaff
from learning.services import cohorts as cohort_services
from learning.services import enrolment as enrolment_services
from learning.services.publishing import available_course_slugs, publish_course


@login_required
def dashboard(request):
    require(request.user, "teaching.dashboard")
    user = request.user
    if user.is_staff:
        courses = Course.objects.all()
    else:
        courses = Course.objects.filter(
            Q(staff__user=user)
            | Q(cohorts__enrolments__user=user, cohorts__enrolments__role__in=["instructor", "ta"])
        ).distinct()
    published = {c.slug: c for c in Course.objects.all()}
    repository = [
        {
            "slug": slug,
            "course": published.get(slug),
            "may_publish": can(user, "course.publish", published.get(slug)),
        }
        for slug in available_course_slugs()
    ]
    return render(
        request, "learning/teach_dashboard.html", {"courses": courses, "repository": repository}
    )


@login_required
@require_POST
def publish(request, slug: str):
    course = Course.objects.filter(slug=slug).first()
    require(request.user, "course.publish", course)
    try:
        result = publish_course(slug, by=request.user)
    except ManifestError as exc:
        messages.error(request, _("Publishing failed: %(error)s") % {"error": exc})
        return redirect("teach-dashboard")
    version = result.version
    if result.created:
        messages.success(
            request,
            _("Published %(course)s version %(n)d.")
            % {"course": version.title, "n": version.number},
        )
    else:
        messages.info(
            request,
            _("Nothing changed: %(course)s is still version %(n)d.")
            % {"course": version.title, "n": version.number},
        )
    return redirect("teach-course", slug=slug)


@login_required
def course_detail(request, slug: str):
    course = get_object_or_404(Course, slug=slug)
    require(request.user, "course.teach", course)
    form = CohortForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "cohort.create", course)
        if form.is_valid():
            data = form.cleaned_data
            try:
                cohort = cohort_services.create_cohort(
                    course,
                    data["name"],
                    data["starts_on"],
                    data["ends_on"],
                    by=request.user,
                    time_zone=data["time_zone"],
                    seat_limit=data["seat_limit"],
                    late_policy=data["late_policy"],
                )
            except cohort_services.CohortError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Cohort %(name)s created.") % {"name": cohort.name})
                return redirect("teach-cohort", pk=cohort.pk)
    return render(
        request,
        "learning/teach_course.html",
        {
            "course": course,
            "versions": course.versions.prefetch_related("assignments"),
            "cohorts": course.cohorts.select_related("version"),
            "form": form,
            "may_create": can(request.user, "cohort.create", course),
            "may_publish": can(request.user, "course.publish", course),
            "staff": CourseStaff.objects.filter(course=course).select_related("user"),
        },
    )


@login_required
def cohort_manage(request, pk: int):
    cohort = get_object_or_404(Cohort.objects.select_related("course", "version"), pk=pk)
    require(request.user, "cohort.roster", cohort)
    zone = cohort.zone
    schedule = selectors.schedule_for(cohort)
    assignments = [
        {"assignment": a, "schedule": schedule.get(a.slug)}
        for a in cohort.version.assignments.order_by("position")
    ]
    return render(
        request,
        "learning/teach_cohort.html",
        {
            "cohort": cohort,
            "roster": selectors.roster(cohort),
            "invites": cohort.invite_codes.order_by("-created_at"),
            "assignments": assignments,
            "extensions": cohort.extensions.select_related("user"),
            "versions": cohort.course.versions.all(),
            "may_manage": can(request.user, "cohort.manage", cohort),
            "invite_form": InviteForm(),
            "member_form": AddMemberForm(),
            "csv_form": CsvForm(),
            "policy_form": LatePolicyForm(instance=cohort),
            "extension_form": ExtensionForm(),
            "zone": zone,
        },
    )


def _managed_cohort(request, pk: int) -> Cohort:
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "cohort.manage", cohort)
    return cohort


def _local(value: datetime, cohort: Cohort) -> datetime:
    # Form times are typed in the cohort's own time zone.
    if value.tzinfo is None:
        return value.replace(tzinfo=cohort.zone)
    return value.astimezone(zoneinfo.ZoneInfo(cohort.time_zone))


@login_required
@require_POST
def create_invite(request, pk: int):
    cohort = _managed_cohort(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        expires = form.cleaned_data["expires_at"]
        invite = cohort_services.create_invite_code(
            cohort,
            by=request.user,
            expires_at=_local(expires, cohort) if expires else None,
            max_uses=form.cleaned_data["max_uses"],
        )
        messages.success(request, _("Invite code %(code)s created.") % {"code": invite.code})
    else:
        messages.error(request, _("The invite code was not created: check the fields."))
    return redirect("teach-cohort", pk=pk)


@login_required
@require_POST
def add_member(request, pk: int):
    cohort = _managed_cohort(request, pk)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        who = form.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(Q(username=who) | Q(email__iexact=who)).first()
        if user is None:
            messages.error(request, _("No user %(who)s.") % {"who": who})
        else:
            try:
                enrolment_services.enrol(
                    cohort, user, source="manual", role=form.cleaned_data["role"]
                )
            except enrolment_services.EnrolmentError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("%(user)s added.") % {"user": user})
    return redirect("teach-cohort", pk=pk)


@login_required
@require_POST
def import_roster(request, pk: int):
    """Upload shows a preview; confirming (the same text posted back) imports all rows or none."""
    cohort = _managed_cohort(request, pk)
    form = CsvForm(request.POST, request.FILES)
    form.is_valid()
    upload = form.cleaned_data.get("csv_file")
    if upload is not None:
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            messages.error(request, _("The CSV must be UTF-8 text."))
            return redirect("teach-cohort", pk=pk)
        preview = enrolment_services.preview_csv(cohort, text)
        return render(
            request,
            "learning/csv_preview.html",
            {"cohort": cohort, "preview": preview, "csv_text": text},
        )
    text = form.cleaned_data.get("csv_text") or ""
    try:
        preview = enrolment_services.import_csv(cohort, text)
    except enrolment_services.EnrolmentError as exc:
        messages.error(request, str(exc))
        return redirect("teach-cohort", pk=pk)
    messages.success(request, _("Imported %(n)d people.") % {"n": len(preview.rows)})
    # People who have no password yet get a set-password link by mail, also shown here to copy.
    emails = {row.email for row in preview.rows}
    members = get_user_model().objects.filter(enrolments__cohort=cohort).order_by("username")
    links = account_services.send_set_password_links(
        [u for u in members if u.email.lower() in emails and account_services.needs_password(u)],
        account_services.site_url(request),
        invited_to=str(cohort),
    )
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    context = {"cohort": cohort, "links": links, "days": days}
    return render(request, "learning/csv_result.html", context)


@login_required
@require_POST
def update_policy(request, pk: int):
    cohort = _managed_cohort(request, pk)
    form = LatePolicyForm(request.POST, instance=cohort)
    if form.is_valid():
        form.save()
        messages.success(request, _("Late policy saved."))
    else:
        messages.error(request, _("The late policy was not saved: check the fields."))
    return redirect("teach-cohort", pk=pk)


@login_required
@require_POST
def update_schedule(request, pk: int):
    cohort = _managed_cohort(request, pk)
    slug = request.POST.get("assignment_slug", "")
    try:
        release_at = _local(datetime.fromisoformat(request.POST["release_at"]), cohort)
        due_at = _local(datetime.fromisoformat(request.POST["due_at"]), cohort)
        cohort_services.set_schedule(cohort, slug, release_at, due_at)
    except (KeyError, ValueError) as exc:
        messages.error(request, _("The schedule was not saved: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Schedule for %(slug)s saved.") % {"slug": slug})
    return redirect("teach-cohort", pk=pk)


@login_required
@require_POST
def grant_extension(request, pk: int):
    cohort = _managed_cohort(request, pk)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The extension was not granted: check the fields."))
        return redirect("teach-cohort", pk=pk)
    data = form.cleaned_data
    user = get_user_model().objects.filter(username=data["username"]).first()
    try:
        if user is None:
            raise cohort_services.CohortError(_("No user %(who)s.") % {"who": data["username"]})
        cohort_services.grant_extension(
            cohort,
            user,
            data["assignment_slug"],
            _local(data["due_at"], cohort),
            by=request.user,
            reason=data["reason"],
        )
    except cohort_services.CohortError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Extension granted."))
    return redirect("teach-cohort", pk=pk)


@login_required
@require_POST
def move_version(request, pk: int):
    cohort = _managed_cohort(request, pk)
    version = get_object_or_404(cohort.course.versions, pk=request.POST.get("version"))
    try:
        added = cohort_services.move_cohort_to_version(cohort, version)
    except cohort_services.CohortError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The cohort now uses version %(n)d (%(added)d new assignments).")
            % {"n": version.number, "added": len(added)},
        )
    return redirect("teach-cohort", pk=pk)
