"""The site as OpenID Connect provider for the hub: signing key and the claims it releases."""

from __future__ import annotations

import os
from pathlib import Path

from oauth2_provider.oauth2_validators import OAuth2Validator

#: Where each claim is released: the hub asks for `openid profile email groups`.
CLAIM_SCOPES = {
    "username": "profile",
    "preferred_username": "profile",
    "name": "profile",
    "email": "email",
    "roles": "groups",
    "groups": "groups",
}


def load_or_create_rsa_key(path: Path) -> str:
    """The RS256 private key in PEM; created (mode 600) on first use."""
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Several web workers start at once: write a whole file aside, then link it into place
    # (atomic); whoever loses the race reads the winner's key.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    try:
        os.link(partial, path)
    except FileExistsError:
        pem = path.read_text()
    finally:
        partial.unlink()
    return pem


def roles_and_groups(user) -> tuple[list[str], list[str]]:
    from learning.models import CourseStaff, Enrolment

    roles: set[str] = {"student"} if user.enrolments.exists() else set()
    if user.is_staff:
        roles.add("staff")
    groups = []
    for enrolment in Enrolment.objects.filter(user=user).select_related("cohort__course"):
        roles.add(enrolment.role)
        groups.append(f"cohort-{enrolment.cohort_id}")
        if enrolment.role != Enrolment.Role.STUDENT:
            groups.append(f"cohort-{enrolment.cohort_id}-{enrolment.role}")
    for staff in CourseStaff.objects.filter(user=user).select_related("course"):
        roles.add(staff.role)
        groups.append(f"course-{staff.course.slug}-{staff.role}")
    # The hub replaces a user's groups with these at each sign-in and refresh: the team groups
    # (shared team folders) must be among them or the hub would drop them.
    from compute.selectors import team_groups

    groups.extend(team_groups(user))
    return sorted(roles), sorted(set(groups))


def is_course_staff(user) -> bool:
    """An instructor or TA of some cohort or course, or the site's staff: their Jupyter server
    keeps nbgrader's instructor tools. The site sends this with each spawn (`role` in the
    user_options); the hub applies the same rule to these groups only when the site has not said."""
    groups = roles_and_groups(user)[1]
    return bool(user.is_staff) or any(
        group.startswith("course-") or group.endswith(("-ta", "-instructor")) for group in groups
    )


class KernelCampValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, **CLAIM_SCOPES}

    def get_additional_claims(self, request) -> dict:
        user = request.user
        roles, groups = roles_and_groups(user)
        return {
            "username": user.get_username().lower(),
            "preferred_username": user.get_username().lower(),
            "name": str(user),
            "email": user.email,
            "roles": roles,
            "groups": groups,
        }
