"""Set-password links for people enrolled by someone else (CSV import, invitations).

A link is Django's password-reset token: it works once (it is bound to the password hash and the
last sign-in) and expires after PASSWORD_RESET_TIMEOUT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

log = logging.getLogger(__name__)


@dataclass
class PasswordLink:
    user: object
    url: str
    mailed: bool


def needs_password(user) -> bool:
    """Never signed in and no password: someone else made this account."""
    return user.is_active and not user.has_usable_password() and user.last_login is None


def site_url(request=None) -> str:
    """The site's public address for links in mail: KC_SITE_URL, else what the request reached."""
    if settings.KC_SITE_URL:
        return settings.KC_SITE_URL
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return "http://127.0.0.1:8000"


def set_password_url(user, base_url: str) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{base_url.rstrip('/')}{path}"


def send_set_password_links(users, base_url: str, *, invited_to: str = "") -> list[PasswordLink]:
    """Mail each user a link to choose a password; the links come back for the instructor too.

    A mail that cannot be sent (SMTP down) is logged, not raised: the link is still shown.
    """
    links = []
    for user in users:
        url = set_password_url(user, base_url)
        context = {
            "user": user,
            "url": url,
            "invited_to": invited_to,
            "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            "site_url": base_url,
        }
        with translation.override(user.language or translation.get_language()):
            subject = render_to_string("registration/set_password_subject.txt", context)
            body = render_to_string("registration/set_password_email.txt", context)
        try:
            send_mail(" ".join(subject.split()), body, None, [user.email])
            mailed = True
        except OSError as exc:  # smtplib errors are OSErrors
            log.warning("could not mail a set-password link to user %s: %s", user.pk, exc)
            mailed = False
        links.append(PasswordLink(user=user, url=url, mailed=mailed))
    return links
