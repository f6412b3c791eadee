"""`{% load compute_figures %}`: `{{ seconds|gpu_time }}`, `{{ hours|gpu_hours }}`."""

from __future__ import annotations

from django import template

from compute.figures import gpu_time as _gpu_time
from compute.figures import gpu_time_from_hours

register = template.Library()


@register.filter
def gpu_time(seconds: float | None) -> str:
    return _gpu_time(seconds)


@register.filter
def gpu_hours(hours: float | None) -> str:
    return gpu_time_from_hours(hours)


@register.filter
def profile_name(slug: str) -> str:
    """A GPU profile's display name for its slug (an assignment names its profile by slug); the
    slug itself when no such profile exists."""
    from compute.models import GpuProfile

    name = GpuProfile.objects.filter(slug=slug).values_list("display_name", flat=True).first()
    return name or slug
