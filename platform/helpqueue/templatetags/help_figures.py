"""`{{ seconds|wait_time }}`: a wait as people say it (45 s, 4 min, 1 h 05 min)."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def wait_time(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}
