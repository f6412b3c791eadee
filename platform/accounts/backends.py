"""Password sign-in with failed attempts limited per account and per client address.

Enforced in the authentication backend, so every way in (the login page, the admin's login)
obeys the same limits; the login form turns a refusal into a message that says how long to wait.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from accounts import ratelimit


def _keys(request, username: str | None) -> list[tuple[str, int]]:
    keys = [
        (f"login-user:{(username or '').strip().lower()}", settings.KC_LOGIN_FAILURES_PER_ACCOUNT)
    ]
    if request is not None:
        keys.append((f"login-ip:{ratelimit.client_ip(request)}", settings.KC_LOGIN_FAILURES_PER_IP))
    return keys


def login_wait(request, username: str | None) -> int:
    """Seconds before this account, from this address, may try a password again (0: now)."""
    window = settings.KC_LOGIN_FAILURE_WINDOW_S
    return max(ratelimit.retry_after(key, limit, window) for key, limit in _keys(request, username))


class RateLimitedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        wait = login_wait(request, username)
        if wait:
            if request is not None:
                request.kc_login_wait = wait
            raise PermissionDenied("too many failed sign-ins")  # stops every backend
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is not None and getattr(request, "kc_login_wait", 0):
        return  # refused unseen: not counted again, so the table cannot be flooded
    for key, _limit in _keys(request, credentials.get("username")):
        ratelimit.record(key)


@receiver(user_logged_in)
def _forget_account_failures(sender, request, user, **kwargs):
    ratelimit.clear(f"login-user:{user.get_username().lower()}")
