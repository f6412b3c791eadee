"""The grader's messages in the reader's language (the grader keeps them English; its catalogue,
grader/messages.py, has the Korean)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from grader.messages import translate

register = template.Library()


@register.filter
def grader_message(text: str) -> str:
    """A cell's message or a reason from the grader, translated where it is the grader's own."""
    return translate(str(text or ""), get_language() or "en")
