"""Organizer forms: the event itself, its schedule (phases in the event's time zone), tracks,
prizes. Date-times are read and shown in the event's time zone (the view activates it)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from events.models import Event, Phase, Prize, Track

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=[(z, z) for z in sorted(zoneinfo.available_timezones())]
    )

    class Meta:
        model = Event
        fields = (
            "title",
            "summary",
            "rules",
            "time_zone",
            "starts_at",
            "ends_at",
            "registration_mode",
            "invite_code",
            "seat_limit",
            "team_size_min",
            "team_size_max",
            "team_lock_at",
            "judges_per_project",
        )
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "rules": forms.Textarea(attrs={"rows": 6}),
            "starts_at": LOCAL_INPUT,
            "ends_at": LOCAL_INPUT,
            "team_lock_at": LOCAL_INPUT,
        }

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        low, high = data.get("team_size_min"), data.get("team_size_max")
        if low and high and high < low:
            self.add_error(
                "team_size_max", _("The largest team cannot be smaller than the smallest.")
            )
        if data.get("registration_mode") == Event.RegistrationMode.INVITE and not data.get(
            "invite_code"
        ):
            self.add_error("invite_code", _("An invite-only event needs an invite code."))
        return data


class ScheduleForm(forms.Form):
    """One start and end per kind of phase; both blank: the event has no such phase."""

    def __init__(self, *args, event: Event, **kwargs):
        existing = {p.kind: p for p in event.phases.all()}
        initial = {}
        for kind, _label in Phase.Kind.choices:
            if kind in existing:
                initial[f"{kind}_starts"] = existing[kind].starts_at
                initial[f"{kind}_ends"] = existing[kind].ends_at
        super().__init__(*args, initial=initial, **kwargs)
        for kind, label in Phase.Kind.choices:
            self.fields[f"{kind}_starts"] = forms.DateTimeField(
                label=label, required=False, widget=LOCAL_INPUT
            )
            self.fields[f"{kind}_ends"] = forms.DateTimeField(
                label=label, required=False, widget=LOCAL_INPUT
            )

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (label, self[f"{kind}_starts"], self[f"{kind}_ends"])
            for kind, label in Phase.Kind.choices
        ]

    def clean(self):
        data = super().clean()
        for kind, _label in Phase.Kind.choices:
            starts, ends = data.get(f"{kind}_starts"), data.get(f"{kind}_ends")
            if bool(starts) != bool(ends):
                self.add_error(f"{kind}_ends", _("Give both the start and the end, or neither."))
            elif starts and ends <= starts:
                self.add_error(f"{kind}_ends", _("A phase must end after it starts."))
        return data

    def phases(self) -> dict[str, tuple | None]:
        return {
            kind: (
                (self.cleaned_data[f"{kind}_starts"], self.cleaned_data[f"{kind}_ends"])
                if self.cleaned_data.get(f"{kind}_starts")
                else None
            )
            for kind, _label in Phase.Kind.choices
        }


class TrackForm(forms.ModelForm):
    class Meta:
        model = Track
        fields = ("name", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class PrizeForm(forms.ModelForm):
    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = event.tracks.all()
        self.fields["track"].required = False
        self.fields["track"].label = _("Track")

    class Meta:
        model = Prize
        fields = ("title", "description", "rank", "track")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class RoleForm(forms.Form):
    """Give someone a part in the event: a username or an email address, and the role."""

    person = forms.CharField(label=_("Username or email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, **kwargs):
        from events.services import STAFF_ROLES

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role.value, role.label) for role in STAFF_ROLES]

    def clean_person(self):
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        typed = self.cleaned_data["person"].strip()
        people = get_user_model().objects.filter(
            Q(username__iexact=typed) | Q(email__iexact=typed), is_active=True
        )[:2]
        if len(people) != 1:
            raise forms.ValidationError(_("No one, or more than one person, has that name."))
        return people[0]
