"""An assignment names its suggested GPU profile by slug; pages show the profile's name."""

import pytest
from django.template import Context, Template

from compute.models import GpuProfile


@pytest.mark.django_db
def test_a_profile_slug_reads_as_its_display_name():
    GpuProfile.objects.create(slug="cpu-simulator", display_name="CPU (CUDA simulator)")
    template = Template("{% load compute_figures %}{{ slug|profile_name }}")
    assert template.render(Context({"slug": "cpu-simulator"})) == "CPU (CUDA simulator)"
    # A profile that no longer exists still says which one was meant.
    assert template.render(Context({"slug": "h100-full"})) == "h100-full"
