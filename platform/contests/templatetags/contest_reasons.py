"""Why an entry was refused or held, in the reader's language (the grader owns the words:
grader/challenges/reasons.py)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from grader.challenges.reasons import detail, explain

register = template.Library()


@register.filter
def reason_meaning(code: str) -> str:
    """What a reason code or a flag means."""
    return explain(str(code or ""), get_language() or "en")


@register.filter
def reason_detail(reason: str) -> str:
    """The harness's own sentence (counts, times, the values it quoted)."""
    return detail(str(reason or ""), get_language() or "en")
