"""What the site's menu offers the signed-in user."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .permissions import can


def navigation(request) -> dict:
    """``may_teach``: show "Teaching" only to those its page lets in (students got a 403 there).

    Lazy, so pages that never render the menu pay no query.
    """
    user = getattr(request, "user", None)
    return {
        "may_teach": SimpleLazyObject(
            lambda: bool(
                user is not None and user.is_authenticated and can(user, "teaching.dashboard")
            )
        )
    }
