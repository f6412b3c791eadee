import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from learning.models import Cohort, Enrolment


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Invite code"), max_length=32)


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[(z, z) for z in sorted(zoneinfo.available_timezones())],
        initial="Asia/Seoul",
    )
    seat_limit = forms.IntegerField(label=_("Seat limit"), min_value=1, required=False)
    late_policy = forms.ChoiceField(label=_("Late policy"), choices=Cohort.LatePolicy.choices)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise forms.ValidationError(_("A cohort cannot end before it starts."))
        return data


class LatePolicyForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = (
            "late_policy",
            "penalty_percent_per_day",
            "penalty_cap_percent",
            "grace_hours",
            "seat_limit",
        )


class InviteForm(forms.Form):
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    max_uses = forms.IntegerField(label=_("Maximum uses"), min_value=1, required=False)


class AddMemberForm(forms.Form):
    username = forms.CharField(label=_("Username or email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Enrolment.Role.choices)


class CsvForm(forms.Form):
    csv_file = forms.FileField(label=_("Roster CSV (email, name, username, role)"), required=False)
    csv_text = forms.CharField(widget=forms.HiddenInput, required=False)


class ScheduleForm(forms.Form):
    assignment_slug = forms.SlugField(widget=forms.HiddenInput)
    release_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    due_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class ExtensionForm(forms.Form):
    username = forms.CharField(label=_("Student"), max_length=150)
    assignment_slug = forms.SlugField(label=_("Assignment"))
    due_at = forms.DateTimeField(
        label=_("New due time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
