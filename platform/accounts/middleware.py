"""Per-user language and time zone."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation


class UserLocaleMiddleware(LocaleMiddleware):
    """Language from the switcher's cookie, else the user's saved choice, else the browser's.

    Placed after AuthenticationMiddleware so that the signed-in user is known.
    """

    def process_request(self, request):
        super().process_request(request)
        user = getattr(request, "user", None)
        has_cookie = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
        if not has_cookie and user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()


class UserTimezoneMiddleware:
    """Show every time in the signed-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = settings.DEFAULT_USER_TIME_ZONE
        if request.user.is_authenticated and request.user.time_zone:
            zone = request.user.time_zone
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_USER_TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
