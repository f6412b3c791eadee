"""Human names of the recorded actions. An app adds its own with `register_action`."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, str | Promise] = {
    "grading.override": _("Grade override"),
    "grading.override_removed": _("Grade override removed"),
    "grading.regrade": _("Regrade"),
    "grading.release_hidden_tests": _("Hidden tests released"),
    "grading.review_decided": _("Held points decided"),
    "grading.manual_grade": _("Graded by hand"),
    "grading.manual_release": _("Grades by hand released"),
    "grading.manual_withdrawn": _("Grades by hand hidden again"),
    "learning.late_policy": _("Late policy"),
    "learning.extension": _("Extension"),
    "learning.role": _("Course role"),
    "events.role": _("Event role"),
    "accounts.site_role": _("Site role"),
    "compute.budget": _("GPU budget"),
    "judging.score": _("Judge's score"),
    "judging.results_published": _("Results published"),
    "judging.results_unpublished": _("Results withdrawn"),
    "contests.freeze": _("Leaderboard freeze"),
    "contests.reveal": _("Private leaderboard revealed or hidden"),
    "privacy.export": _("Personal data exported"),
    "privacy.anonymize": _("Person anonymized"),
    "privacy.delete": _("Person deleted"),
    "privacy.retention": _("Retention purge"),
    "operations.restore": _("Backup restored"),
}


def register_action(action: str, label: str | Promise) -> None:
    """Give an app's action a name for the audit page (call it from the app's ready())."""
    _LABELS[action] = label


def action_label(action: str) -> str:
    return str(_LABELS.get(action, action))


def known_actions() -> list[tuple[str, str]]:
    return sorted(((code, str(label)) for code, label in _LABELS.items()), key=lambda a: a[1])
