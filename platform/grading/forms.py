from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    notebook = forms.FileField(label=_("Your notebook (.ipynb)"))


class OverrideForm(forms.Form):
    username = forms.CharField(widget=forms.HiddenInput)
    assignment_slug = forms.SlugField(widget=forms.HiddenInput)
    score = forms.FloatField(label=_("Score"), min_value=0)
    comment = forms.CharField(label=_("Why"), max_length=2000)


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("released", _("Release the held points")),
            ("adjusted", _("Set a new score")),
            ("zeroed", _("Score zero")),
        ],
        widget=forms.RadioSelect,
    )
    score = forms.FloatField(label=_("New score"), min_value=0, required=False)
    comment = forms.CharField(
        label=_("Comment for the student"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
