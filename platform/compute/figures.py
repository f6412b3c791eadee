"""The one way the site writes an amount of (GPU) time: on every page and in the CSV exports."""

from __future__ import annotations

from django.utils.translation import gettext as _


def gpu_time(seconds: float | None) -> str:
    """Seconds under a minute, whole minutes under an hour, hours with two decimals under ten
    hours, one under a hundred, none beyond: "12 s", "4 min", "1.25 h", "37.5 h", "250 h"."""
    seconds = max(0.0, float(seconds or 0.0))
    if round(seconds) < 60:
        return _("%(n)s s") % {"n": round(seconds)}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    hours = max(1.0, seconds / 3600)  # 59.6 minutes round up to the hour, as to "60 min"
    digits = 2 if round(hours, 2) < 10 else 1 if round(hours, 1) < 100 else 0
    return _("%(n)s h") % {"n": f"{hours:.{digits}f}"}


def gpu_time_from_hours(hours: float | None) -> str:
    return gpu_time((hours or 0.0) * 3600)
