from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts.permissions import can, require
from events.models import Event, EventRole


@login_required
def event_list(request):
    events = Event.objects.filter(roles__user=request.user).distinct()
    if request.user.is_staff:
        events = Event.objects.all()
    return render(request, "events/event_list.html", {"events": events})


@login_required
def event_detail(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.view", event)
    roles = (
        EventRole.objects.filter(event=event)
        .select_related("user")
        .order_by("role", "user__username")
    )
    may_manage = can(request.user, "event.manage", event)
    staff_roles = [r for r in roles if r.role != EventRole.Role.PARTICIPANT or may_manage]
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "roles": staff_roles,
            "may_manage": may_manage,
            "may_judge": can(request.user, "event.judge", event),
        },
    )
