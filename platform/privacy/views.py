"""A person's own data: the page that explains it and the archive download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit import record
from privacy.export import build_archive


@login_required
def my_data(request):
    return render(request, "privacy/my_data.html")


@never_cache
@login_required
def my_data_zip(request):
    archive = build_archive(request.user)
    record(request.user, "privacy.export", request.user, None, None, subject=request.user)
    stamp = timezone.now().strftime("%Y%m%d")
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="kernelcamp-{request.user.pk}-{stamp}.zip"'
    )
    return response
