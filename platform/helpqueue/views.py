"""Help-queue pages: ask and follow one's place; the mentors' live queue; its JSON for polling."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from events.models import Event
from helpqueue import selectors, services
from helpqueue.models import HelpRequest
from learning.models import Cohort


def queue_owner(kind: str, key: str):
    """The event (by slug) or cohort (by id) a queue URL names."""
    if kind == "event":
        return get_object_or_404(Event, slug=key)
    if kind == "cohort" and key.isdigit():
        return get_object_or_404(Cohort.objects.select_related("course"), pk=int(key))
    raise Http404


def queue_args(owner) -> list[str]:
    return ["event", owner.slug] if isinstance(owner, Event) else ["cohort", str(owner.pk)]


def _context(owner, **extra) -> dict:
    is_event = isinstance(owner, Event)
    return {
        "owner": owner,
        "event": owner if is_event else None,
        "cohort": None if is_event else owner,
        "queue_args": queue_args(owner),
        **extra,
    }


@login_required
def help_home(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    owner = queue_owner(kind, key)
    require(request.user, "help.ask", owner)
    if request.method == "POST":
        try:
            services.ask(
                owner,
                request.user,
                request.POST.get("topic", ""),
                request.POST.get("location", ""),
                request.POST.get("notebook_link", ""),
            )
        except services.HelpError as exc:
            messages.error(request, str(exc))
        return redirect("help-home", *queue_args(owner))
    mine = selectors.open_request_of(owner, request.user)
    return render(
        request,
        "helpqueue/ask.html",
        _context(
            owner,
            mine=mine,
            place=selectors.place_in_queue(mine) if mine else None,
            may_answer=can(request.user, "help.answer", owner),
        ),
    )


@login_required
def help_queue(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    owner = queue_owner(kind, key)
    require(request.user, "help.answer", owner)
    return render(
        request,
        "helpqueue/queue.html",
        _context(
            owner,
            requests=selectors.open_requests(owner),
            figures=selectors.figures(owner),
        ),
    )


@login_required
def help_queue_json(request: HttpRequest, kind: str, key: str) -> JsonResponse:
    """What the mentors' page polls: the open requests and the waiting count."""
    owner = queue_owner(kind, key)
    require(request.user, "help.answer", owner)
    rows = [selectors.request_json(r) for r in selectors.open_requests(owner)]
    for row in rows:
        row["mine"] = row["claimed_by"] == request.user.get_username()
    return JsonResponse({"requests": rows, "me": request.user.get_username()})


def _help_request(request: HttpRequest, pk: int) -> HelpRequest:
    help_request = get_object_or_404(
        HelpRequest.objects.select_related("asker", "claimed_by", "event", "cohort"), pk=pk
    )
    require(request.user, "help.follow", help_request)
    return help_request


@login_required
def help_request_json(request: HttpRequest, pk: int) -> JsonResponse:
    """What the asker's page polls: the request's state and its place in the queue."""
    help_request = _help_request(request, pk)
    data = selectors.request_json(help_request)
    data["place"] = selectors.place_in_queue(help_request)
    return JsonResponse(data)


ACTIONS = {
    "claim": ("help.answer", services.claim),
    "resolve": ("help.answer", services.resolve),
    "hand-back": ("help.answer", services.hand_back),
}


@login_required
@require_POST
def help_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Claim, resolve, hand back (mentors) or withdraw (the asker). Answers JSON to the page's
    script (`Accept: application/json`), else redirects with a message."""
    help_request = _help_request(request, pk)
    owner = help_request.owner
    if action == "withdraw":
        if help_request.asker_id != request.user.pk:
            raise PermissionDenied("help.withdraw")  # only the asker takes a question back
        act, back = services.withdraw, reverse("help-home", args=queue_args(owner))
    elif action in ACTIONS:
        rule, act = ACTIONS[action]
        require(request.user, rule, owner)
        back = reverse("help-queue", args=queue_args(owner))
    else:
        raise Http404
    error = ""
    try:
        act(help_request, request.user)
    except services.HelpError as exc:
        error = str(exc)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": not error, "message": error}, status=409 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(back)
