"""Challenge pages: list, statement and hand-in, entries, boards (page, live fragment, JSON)."""

from __future__ import annotations

import hashlib
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from contests import boards, downloads, selectors, services
from contests.models import BoardRow, Challenge, Entry
from events.models import Event


def get_challenge(slug: str, challenge: str) -> Challenge:
    return get_object_or_404(
        Challenge.objects.select_related("event").defer(
            "bundle", "statement", "statement_ko", "manifest"
        ),
        event__slug=slug,
        slug=challenge,
    )


_STATEMENT_TAGS = {
    "p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "code", "pre", "em", "strong", "table",
    "thead", "tbody", "tr", "th", "td", "blockquote", "a", "br", "hr",
}  # fmt: skip


_LEADING_TITLE = re.compile(r"\A\s*# [^\n]*\n")


def _statement(challenge: Challenge):
    """The README in the reader's language, as Markdown with raw HTML escaped and an allow-list
    after it (the folder comes from the repository, but a page never trusts text)."""
    import bleach
    import mistune
    from django.utils.safestring import mark_safe

    text = challenge.statement_ko if get_language() == "ko" and challenge.statement_ko else ""
    # The README's own title ("# Row softmax") repeats the page's <h1>: left out.
    text = _LEADING_TITLE.sub("", text or challenge.statement, count=1)
    html = mistune.create_markdown(escape=True, plugins=["table"])(text)
    cleaned = bleach.clean(
        html, tags=_STATEMENT_TAGS, attributes={"a": ["href"]}, protocols=["https"], strip=True
    )
    return mark_safe(cleaned)  # noqa: S308 - bleach's allow-list output


@login_required
def challenge_list(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.view", event)
    return render(
        request,
        "contests/challenge_list.html",
        {"event": event, "challenges": event.challenges.defer("bundle", "statement", "manifest")},
    )


@login_required
def challenge_detail(request, slug: str, challenge: str):
    challenge = get_object_or_404(
        Challenge.objects.select_related("event").defer("bundle"), event__slug=slug, slug=challenge
    )
    require(request.user, "contest.view", challenge)
    may_enter = can(request.user, "contest.enter", challenge)
    return render(
        request,
        "contests/challenge_detail.html",
        {
            "event": challenge.event,
            "challenge": challenge,
            "statement": _statement(challenge),
            "files": downloads.participant_files(challenge),
            "may_enter": may_enter,
            "may_manage": can(request.user, "contest.manage", challenge),
            "is_open": services.is_open(challenge),
            "closes_at": services.closes_at(challenge),
            "mine": selectors.participant_view(challenge, request.user) if may_enter else None,
        },
    )


@login_required
def challenge_download(request, slug: str, challenge: str, name: str):
    """A file the challenge gives its participants (starter.py, public/...), as an attachment;
    whoever may read the statement may have it."""
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.view", challenge)
    data = downloads.read_participant_file(challenge, name)
    if data is None:
        raise Http404
    return _attachment(data, f"{challenge.slug}-{name.rsplit('/', 1)[-1]}")


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def _attachment(data: bytes, filename: str) -> HttpResponse:
    """Bytes to save, never to render or run. The name keeps only letters, digits, `._-`: an
    entry's name is the participant's, and a quote in it would end the header's parameter."""
    response = HttpResponse(data, content_type="application/octet-stream")
    safe = _UNSAFE_IN_FILENAME.sub("_", filename)[-200:] or "download"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@login_required
def my_entries(request, slug: str, challenge: str):
    """The participant's entries with status and place in the queue (htmx polls it)."""
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.enter", challenge)
    return render(
        request,
        "contests/_my_entries.html",
        {"challenge": challenge, "mine": selectors.participant_view(challenge, request.user)},
    )


@login_required
@require_POST
def challenge_enter(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    require(request.user, "contest.enter", challenge)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to hand in."))
    else:
        try:
            entry = services.submit_entry(
                challenge, request.user, upload.read(services_limit()), upload.name
            )
        except services.EntryError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Entry #%(id)d is queued for scoring.") % {"id": entry.pk})
    return redirect("challenge-detail", slug=slug, challenge=challenge.slug)


def services_limit() -> int:
    """Read one byte past the limit, so an oversized file is refused without reading it all."""
    from django.conf import settings

    return settings.KC_CONTEST_ENTRY_BYTES + 1


def default_board(challenge: Challenge) -> str:
    """The board a link without `?board=` opens: the public one, and the private (final) one
    once it is revealed (the public one is then a tab away)."""
    if challenge.private_revealed_at is not None:
        return BoardRow.Board.PRIVATE
    return BoardRow.Board.PUBLIC


def _board_kind(request, challenge: Challenge) -> str:
    board = request.GET.get("board") or default_board(challenge)
    if board not in BoardRow.Board.values:
        raise Http404
    return board


def _board_access(request, slug: str, challenge: str):
    challenge = get_challenge(slug, challenge)
    board = _board_kind(request, challenge)
    if not selectors.may_see_board(request.user, challenge, board):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return challenge, board, redirect_to_login(request.get_full_path())
        require(request.user, "contest.manage", challenge)  # raises: a 403
    return challenge, board, None


def _live(request, challenge: Challenge, board: str) -> bool:
    if board == BoardRow.Board.PRIVATE:
        return True  # the private board is only ever seen whole: by organizers, or revealed
    return selectors.sees_live(request.user, challenge)


def _own_row(request, challenge: Challenge, board: str, live: bool) -> BoardRow | None:
    """During a freeze a team still sees its own live standing, above the frozen board."""
    if live or not request.user.is_authenticated:
        return None
    competitor, _team = services.competitor_for(challenge, request.user)
    return boards.own_row(challenge, board, competitor)


def challenge_board(request, slug: str, challenge: str):
    challenge, board, refused = _board_access(request, slug, challenge)
    if refused:
        return refused
    live = _live(request, challenge, board)
    authenticated = request.user.is_authenticated
    return render(
        request,
        "contests/board.html",
        {
            "event": challenge.event,
            "challenge": challenge,
            "board": board,
            "live": live,
            "frozen": boards.is_frozen(challenge),
            "table": boards.rendered(challenge, board, live),
            "own": _own_row(request, challenge, board, live),
            "may_manage": authenticated and can(request.user, "contest.manage", challenge),
            "may_see_private": selectors.may_see_board(
                request.user, challenge, BoardRow.Board.PRIVATE
            ),
            "show_nav": authenticated and can(request.user, "contest.view", challenge),
        },
    )


def challenge_board_live(request, slug: str, challenge: str):
    """The board's table for htmx polling: 204 (nothing to swap) while the version is unchanged."""
    challenge, board, refused = _board_access(request, slug, challenge)
    if refused:
        return HttpResponse(status=403)
    live = _live(request, challenge, board)
    seen = request.GET.get("v", "")
    if seen == f"{challenge.board_version}-{int(live)}":
        return HttpResponse(status=204)
    return render(
        request,
        "contests/_board_live.html",
        {
            "challenge": challenge,
            "board": board,
            "live": live,
            "table": boards.rendered(challenge, board, live),
            "own": _own_row(request, challenge, board, live),
        },
    )


def _board_json_etag(challenge: Challenge, board: str, live: bool) -> str:
    """Everything the JSON body is made from: the board version (raised by every landed score,
    republication and reveal), the view (a freeze turns it to frozen without a new version), the
    board and the ranking rule; the publication time for a challenge made again under its id."""
    born = int(challenge.published_at.timestamp() * 1e6)
    parts = (
        f"{challenge.pk}:{born}:{challenge.board_version}:{board}:{int(live)}:"
        f"{challenge.ranked_by}:{int(challenge.higher_is_better)}"
    )
    return '"' + hashlib.blake2b(parts.encode(), digest_size=12).hexdigest() + '"'


def challenge_board_json(request, slug: str, challenge: str):
    challenge, board, refused = _board_access(request, slug, challenge)
    if refused:
        return HttpResponse(status=403)
    live = _live(request, challenge, board)
    etag = _board_json_etag(challenge, board, live)
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        # A poller that has this version already: no body (the access check above still ran).
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(
            boards.as_json(challenge, board, live), content_type="application/json"
        )
    response["ETag"] = etag
    # Per viewer (the view depends on who asks), and always asked again: a freeze needs no new
    # version, so no response may be reused without this check.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def entry_detail(request, pk: int):
    entry = get_object_or_404(
        Entry.objects.select_related("challenge", "challenge__event", "team", "user").defer(
            "file", "challenge__bundle"
        ),
        pk=pk,
    )
    require(request.user, "contest.entry", entry)
    return render(
        request,
        "contests/entry_detail.html",
        {
            "entry": entry,
            "challenge": entry.challenge,
            "event": entry.challenge.event,
            "place": selectors.queue_position(entry),
            "may_manage": can(request.user, "contest.manage", entry.challenge),
            "timings": (entry.result or {}).get("timings") or [],
        },
    )


@login_required
def entry_file(request, pk: int):
    """The handed-in file, always as an attachment of opaque type: never rendered, never run."""
    entry = get_object_or_404(Entry.objects.select_related("challenge__event"), pk=pk)
    require(request.user, "contest.entry", entry)
    return _attachment(bytes(entry.file), f"entry-{entry.pk}-{entry.filename}")


@login_required
@require_POST
def entry_final(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("challenge__event"), pk=pk)
    require(request.user, "contest.final", entry)
    require(request.user, "contest.enter", entry.challenge)
    try:
        services.set_final(entry, request.POST.get("final") == "1")
    except services.EntryError as exc:
        messages.error(request, str(exc))
    return redirect(
        "challenge-detail", slug=entry.challenge.event.slug, challenge=entry.challenge.slug
    )
