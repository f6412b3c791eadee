"""A team's project page (what judges will see, plus the form) and the file download."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import can, require
from projects import selectors, services
from projects.models import ProjectVersion
from teams.models import Team


@login_required
def team_project(request, pk: int):
    team = get_object_or_404(Team.objects.select_related("event"), pk=pk)
    project = selectors.project_of_team(team)
    is_member = can(request.user, "team.member", team)
    if not (
        is_member
        or can(request.user, "event.manage", team.event)
        or (project is not None and can(request.user, "project.view", project))
    ):
        raise PermissionDenied("project.view")
    closes_at = services.submissions_close_at(team)
    if request.method == "POST":
        require(request.user, "team.member", team)
        upload = request.FILES.get("file")
        if upload is not None and upload.size > services.max_upload_bytes():
            messages.error(request, _("The file is too large."))
            return redirect("team-project", pk=team.pk)
        draft = services.ProjectDraft(
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            repository_url=request.POST.get("repository_url", ""),
            video_url=request.POST.get("video_url", ""),
            track_id=int(request.POST["track"])
            if request.POST.get("track", "").isdigit()
            else None,
            file_name=upload.name if upload else "",
            file_bytes=upload.read() if upload else b"",
        )
        try:
            version = services.submit_version(team, request.user, draft)
        except services.ProjectError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Version %(n)s saved.") % {"n": version.number})
        return redirect("team-project", pk=team.pk)
    latest = selectors.latest_version(project)
    return render(
        request,
        "projects/team_project.html",
        {
            "team": team,
            "event": team.event,
            "project": project,
            "latest": latest,
            "versions": project.versions.all() if project else [],
            "is_member": is_member,
            "open": timezone.now() < closes_at,
            "closes_at": timezone.localtime(closes_at, team.event.zone),
            "tracks": team.event.tracks.all(),
            "limit_mb": services.max_upload_bytes() // 2**20,
        },
    )


@login_required
def project_file(request, pk: int):
    """The uploaded file, always as an attachment of opaque type: never rendered, never run."""
    version = get_object_or_404(ProjectVersion.objects.select_related("project"), pk=pk)
    require(request.user, "project.view", version.project)
    if not version.file_name:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(version.file_bytes), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{version.file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
