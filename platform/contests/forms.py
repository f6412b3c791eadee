from django import forms
from django.utils.translation import gettext_lazy as _

from contests.models import Challenge


class ChallengeSettingsForm(forms.ModelForm):
    """What an organizer decides about a published challenge (the folder decides the rest).
    Times are read and shown in the event's time zone (the view activates it)."""

    class Meta:
        model = Challenge
        fields = ["closes_at", "quota_per_day", "quota_total", "selection", "max_final"]
        fields += ["public_board"]
        widgets = {
            "closes_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            )
        }

    def clean(self):
        cleaned = super().clean()
        per_day, total = cleaned.get("quota_per_day"), cleaned.get("quota_total")
        if per_day is not None and per_day < 1:
            self.add_error("quota_per_day", _("Allow at least one entry a day."))
        if None not in (per_day, total) and total < per_day:
            self.add_error("quota_total", _("The total must be at least the daily quota."))
        if cleaned.get("max_final") is not None and cleaned["max_final"] < 1:
            self.add_error("max_final", _("Let a team mark at least one entry final."))
        return cleaned
