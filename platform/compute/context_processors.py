"""The budget warning on every page while the user's running server is about to be stopped."""

from __future__ import annotations

from django.http import HttpRequest

from compute import selectors
from compute.models import HubSession


def budget_warning(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    warned = HubSession.objects.filter(
        user=user, status__in=HubSession.ACTIVE, warned_at__isnull=False
    ).first()
    return {"budget_warning": {"budget": selectors.budget_for_session(warned)}} if warned else {}
