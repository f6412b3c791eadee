"""Erasure: anonymize a person (records kept under a pseudonym) or delete them (records gone).

Both keep every other person's data as it was and the shared counters right:
- anonymize: the account stays, inactive, renamed `deleted-<id>`, without name, email,
  password, linked sign-in, tokens or rate-limit counts. Grades, submissions and GPU usage stay
  attached to it, so a cohort's averages, a team's results and usage totals do not move.
- delete: the account and everything it owns are removed; cohort and event seat counts and team
  sizes are counted down as leaving would. A judge's scores belong to other people's results, so a
  judge with scores is refused: anonymize them instead.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q

from audit import record
from audit.models import AuditEntry


class ErasureError(ValueError):
    pass


def pseudonym(user) -> str:
    return f"deleted-{user.pk}"


def _rewrite_audit_labels(old_names: set[str], new_name: str) -> None:
    """The log keeps what happened, without the person's name: labels that carried it (entries
    made by, about or on the person) get the pseudonym instead."""
    names = sorted((n for n in old_names if len(n) >= 3), key=len, reverse=True)
    if not names:
        return
    carrying = Q()
    for name in names:
        carrying |= Q(target_label__contains=name) | Q(actor_label=name)
    for entry in AuditEntry.objects.filter(carrying).iterator():
        label = entry.target_label
        for name in names:
            label = label.replace(name, new_name)
        actor_label = new_name if entry.actor_label in names else entry.actor_label
        AuditEntry.objects.filter(pk=entry.pk).update(target_label=label, actor_label=actor_label)


def _names_of(user) -> set[str]:
    return {user.username, str(user), user.get_full_name()} - {""}


def _drop_credentials(user) -> None:
    user.external_identities.all().delete()
    from accounts.models import RateLimitHit

    RateLimitHit.objects.filter(
        Q(key__endswith=f":{user.username}") | Q(key__endswith=f":{user.pk}")
    ).delete()
    if apps.is_installed("oauth2_provider"):
        from oauth2_provider.models import (
            get_access_token_model,
            get_grant_model,
            get_id_token_model,
            get_refresh_token_model,
        )

        for model in (
            get_refresh_token_model(),
            get_access_token_model(),
            get_id_token_model(),
            get_grant_model(),
        ):
            model.objects.filter(user=user).delete()


@transaction.atomic
def anonymize(user, *, by=None):
    """Remove the person's identity and keep their records under a pseudonym."""
    old_names = _names_of(user)
    new_name = pseudonym(user)
    _drop_credentials(user)
    user.username = new_name
    user.first_name = user.last_name = user.display_name = user.email = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = user.is_superuser = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    if apps.is_installed("compute"):
        from compute.models import HubSession

        HubSession.objects.filter(user=user).update(hub_username=new_name)
    if apps.is_installed("teams"):
        from teams.models import LookingForTeam

        LookingForTeam.objects.filter(user=user).delete()
    _rewrite_audit_labels(old_names, new_name)
    record(by, "privacy.anonymize", user, None, {"username": new_name}, subject=user)
    return user


@transaction.atomic
def delete(user, *, by=None) -> str:
    """Delete the person and everything they own; count shared seats and team sizes down."""
    if apps.is_installed("judging"):
        from judging.models import Score

        if Score.objects.filter(assignment__judge=user).exists():
            raise ErasureError(
                f"{user.get_username()} has judged projects; their scores are part of other "
                "people's results. Anonymize this account instead."
            )
    from learning.models import Cohort, Enrolment

    user_pk, old_names = user.pk, _names_of(user)
    for cohort_id in Enrolment.objects.filter(user=user, role=Enrolment.Role.STUDENT).values_list(
        "cohort_id", flat=True
    ):
        Cohort.objects.filter(pk=cohort_id, seats_taken__gt=0).update(
            seats_taken=F("seats_taken") - 1
        )
    if apps.is_installed("events"):
        from events.models import Event, Registration

        for event_id in Registration.objects.filter(user=user).values_list("event_id", flat=True):
            Event.objects.filter(pk=event_id, seats_taken__gt=0).update(
                seats_taken=F("seats_taken") - 1
            )
    if apps.is_installed("teams"):
        from teams.models import Team, TeamMembership

        for team_id in TeamMembership.objects.filter(user=user).values_list("team_id", flat=True):
            Team.objects.filter(pk=team_id, member_count__gt=0).update(
                member_count=F("member_count") - 1
            )
    _drop_credentials(user)
    user.delete()
    new_name = f"deleted-{user_pk}"
    _rewrite_audit_labels(old_names, new_name)
    record(by, "privacy.delete", None, {"user_id": user_pk}, None)
    return new_name
