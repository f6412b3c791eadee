from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    notebook = forms.FileField(label=_("Your notebook (.ipynb)"))


class OverrideForm(forms.Form):
    username = forms.CharField(widget=forms.HiddenInput)
    assignment_slug = forms.SlugField(widget=forms.HiddenInput)
    score = forms.FloatField(label=_("Score"), min_value=0)
    comment = forms.CharField(label=_("Why"), max_length=2000)
