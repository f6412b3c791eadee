"""`{% event_permissions event as may %}`: what the signed-in user may open in an event's nav."""

from django import template

from accounts.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def event_permissions(context, event) -> dict[str, bool]:
    user = context["request"].user
    return {
        "participate": can(user, "event.participate", event),
        "judge": can(user, "event.judge", event),
        "mentor": can(user, "event.mentor", event),
        "manage": can(user, "event.manage", event),
        "results": can(user, "results.view", event),
    }
