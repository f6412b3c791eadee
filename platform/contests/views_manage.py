"""Organizer pages of a challenge: freeze, reveal, rescore with progress, flagged entries, CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require
from contests import boards, selectors, services
from contests.forms import ChallengeSettingsForm
from contests.models import BoardRow, Challenge, Entry
from contests.views import get_challenge
from kernelcamp.spreadsheet import as_text


def _event_local_input(challenge: Challenge) -> str:
    if challenge.freeze_at is None:
        return ""
    zone = ZoneInfo(challenge.event.time_zone)
    return challenge.freeze_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@login_required
def challenge_manage(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    with timezone.override(ZoneInfo(challenge.event.time_zone)):
        return render(request, "contests/manage.html", _manage_context(challenge))


def _manage_context(challenge: Challenge, form: ChallengeSettingsForm | None = None) -> dict:
    return {
        "event": challenge.event,
        "challenge": challenge,
        "freeze_input": _event_local_input(challenge),
        "frozen": boards.is_frozen(challenge),
        "flagged": selectors.flagged_entries(challenge),
        "queue": selectors.queue_summary(challenge),
        "rescores": selectors.rescore_progress(challenge),
        "settings_form": form or ChallengeSettingsForm(instance=challenge),
    }


@login_required
@require_POST
def challenge_settings(request, slug: str, challenge: str):
    """Quotas, closing time, which entries the private board uses, who sees the public board."""
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    with timezone.override(ZoneInfo(challenge.event.time_zone)):
        form = ChallengeSettingsForm(request.POST, instance=challenge)
        if not form.is_valid():
            return render(request, "contests/manage.html", _manage_context(challenge, form))
        services.change_settings(challenge, form.cleaned_data)
    messages.success(request, _("The challenge's settings are saved."))
    return redirect("challenge-manage", slug=slug, challenge=challenge.slug)


@login_required
def challenge_progress(request, slug: str, challenge: str):
    """The queue and rescoring progress, polled by htmx on the organizer's page."""
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    return render(
        request,
        "contests/_progress.html",
        {
            "challenge": challenge,
            "queue": selectors.queue_summary(challenge),
            "rescores": selectors.rescore_progress(challenge),
        },
    )


@login_required
@require_POST
def challenge_freeze(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    value = request.POST.get("freeze_at", "").strip()
    if request.POST.get("now"):
        freeze_at = timezone.now()
    elif value:
        try:
            naive = datetime.strptime(value, "%Y-%m-%dT%H:%M")
        except ValueError:
            messages.error(request, _("Give the freeze time as YYYY-MM-DD HH:MM."))
            return redirect("challenge-manage", slug=slug, challenge=challenge.slug)
        freeze_at = naive.replace(tzinfo=ZoneInfo(challenge.event.time_zone))
    else:
        freeze_at = None
    services.set_freeze(challenge, freeze_at)
    if request.POST.get("now"):
        messages.success(request, _("The board is frozen from now on."))
    else:
        messages.success(
            request, _("The board freezes as set.") if freeze_at else _("The board is not frozen.")
        )
    return redirect("challenge-manage", slug=slug, challenge=challenge.slug)


@login_required
@require_POST
def challenge_reveal(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    reveal = request.POST.get("reveal") != "0"
    try:
        services.reveal_private(challenge, reveal)
    except services.EntryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The private board is revealed.")
            if reveal
            else _("The private board is hidden again. Entries stay closed."),
        )
    return redirect("challenge-manage", slug=slug, challenge=challenge.slug)


@login_required
@require_POST
def challenge_rescore(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    batch = services.rescore(challenge, Entry.objects.filter(challenge=challenge), request.user)
    messages.success(request, _("%(n)d entries are queued for rescoring.") % {"n": batch.total})
    return redirect("challenge-manage", slug=slug, challenge=challenge.slug)


@login_required
@require_POST
def entry_rescore(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("challenge__event"), pk=pk)
    require(request.user, "contest.manage", entry.challenge)
    services.rescore(entry.challenge, Entry.objects.filter(pk=entry.pk), request.user)
    messages.success(request, _("Entry #%(id)d is queued for rescoring.") % {"id": entry.pk})
    return redirect("entry-detail", pk=entry.pk)


@login_required
@require_POST
def entry_accept(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("challenge__event"), pk=pk)
    require(request.user, "contest.manage", entry.challenge)
    try:
        services.accept_flagged(entry)
    except services.EntryError as exc:
        messages.error(request, str(exc))
    return redirect(
        "challenge-manage", slug=entry.challenge.event.slug, challenge=entry.challenge.slug
    )


@login_required
def challenge_board_csv(request, slug: str, challenge: str):
    """Both boards, live, for organizers (prizes are decided on this)."""
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.manage", challenge)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{challenge.event.slug}-{challenge.slug}-board.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["board", "rank", "name", "score", "entries", "baseline", "ranked_by"])
    for board in BoardRow.Board.values:
        for row in boards.board_rows(challenge, board, live=True):
            writer.writerow(
                [
                    board,
                    row.rank or "",
                    as_text(row.name),
                    "" if row.score is None else repr(row.score),
                    row.entries,
                    int(row.is_baseline),
                    challenge.ranked_by,
                ]
            )
    return response
