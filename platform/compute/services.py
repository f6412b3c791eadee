"""Write paths of sessions: launch, follow the spawn, deliver notebooks, stop, submit from a session.

Every change to a session row goes through compute.ledger; the hub is asked here. Web requests
use `request_launch` / `request_stop`, which return at once and leave the hub to compute.runner.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from compute import ledger, runner, selectors
from compute.backends import get_backend
from compute.hub import HubError, HubTimeout, HubUnavailable
from compute.models import GpuProfile, HubSession
from learning.models import Cohort, Enrolment
from learning.selectors import assignment_rows

log = logging.getLogger(__name__)


#: The longest a launch waits on the hub's spawn queue (429) before asking again, whatever the
#: hub's Retry-After says (JupyterHub's default suggests 30-60 s; a spawn ending here wakes it).
MAX_QUEUE_WAIT_S = 5.0


class SessionError(ValueError):
    """Something the person asking should be told, in words."""


def _unreachable() -> SessionError:
    # Only said when the hub could not be reached at all (connection refused): true then.
    return SessionError(
        _("The session service cannot be reached right now. Nothing was started; try again soon.")
    )


def _no_answer() -> str:
    return _(
        "The session service did not answer in time. If your server starts after all, it will "
        "appear here within a minute; otherwise try again."
    )


def _backend_or_error():
    backend = get_backend()
    if not backend.configured():
        raise SessionError(_("GPU sessions are not set up on this site."))
    return backend


def _team_to_charge(user, team_id: int | None):
    """The team whose budget a launch draws on: one of the user's own funded teams."""
    if not team_id:
        return None
    team = next((t for t in selectors.budget_teams(user) if t.pk == team_id), None)
    if team is None:
        raise SessionError(
            _("You can only launch on the budget of a team you are in, while its event runs.")
        )
    return team


def _open(user, profile_slug: str, team_id: int | None = None) -> HubSession:
    """The checks that need no hub, then the ledger row (state `starting`)."""
    backend = _backend_or_error()
    team = _team_to_charge(user, team_id)
    profile = GpuProfile.objects.filter(slug=profile_slug, active=True).first()
    if profile is None or not selectors.may_use(user, profile):
        raise SessionError(_("You may not use the profile “%(slug)s”.") % {"slug": profile_slug})
    if team is not None:
        budget = selectors.team_budget(team)
        organization_id = selectors.team_charged_organization(team)
        used_up = _(
            "Your team's GPU-hour budget is used up (%(used).2f of %(granted).2f GPU-hours). "
            "Ask the organizers for more time."
        )
    else:
        budget = selectors.budget_for(user)
        organization_id = selectors.charged_organization(user)
        used_up = _(
            "Your GPU-hour budget is used up (%(used).2f of %(granted).2f GPU-hours). "
            "Ask your instructor for more time."
        )
    if profile.cost_weight > 0 and budget.left <= 0:
        raise SessionError(used_up % {"used": budget.used, "granted": budget.granted})
    try:
        return ledger.open_session(
            user, profile, backend.account_name(user), organization_id, team=team
        )
    except ledger.AlreadyActive:
        raise SessionError(
            _("You already have a session; stop it before starting another.")
        ) from None


def request_launch(user, profile_slug: str, team_id: int | None = None) -> HubSession:
    """What the launch page does: the row now, the hub in the background (runner).
    `team_id`: charge the session to that team's budget (the user must be in it)."""
    session = _open(user, profile_slug, team_id)
    runner.submit(start_and_follow, session.pk)
    return session


def launch(user, profile_slug: str, team_id: int | None = None) -> HubSession:
    """Open a session and ask the hub to start it, in the caller's thread (commands, tests);
    returns once the hub took the request (the server may still be spawning)."""
    session = _open(user, profile_slug, team_id)
    ask_hub(session, background=False)
    return session


def start_and_follow(session_pk: int) -> None:
    """The background half of a launch: ask the hub, follow the spawn, deliver the notebooks."""
    session = HubSession.objects.select_related("profile", "user").get(pk=session_pk)
    if ask_hub(session, background=True):
        follow_spawn(session)


def spawn_options(session: HubSession) -> dict:
    """What the hub's spawner gets: the profile, and whether the user teaches (nbgrader's
    instructor tools), which the hub takes only from the site's own token."""
    from compute.oidc import is_course_staff

    return {
        "profile": session.profile.slug,
        "role": "staff" if is_course_staff(session.user) else "student",
    }


def ask_hub(session: HubSession, background: bool) -> bool:
    """Ask the hub to start the session's server. True when the hub took it. A refusal is written
    to the row (background) or the row is discarded and SessionError raised (caller's thread)."""
    backend = get_backend()
    name = session.hub_username
    _wait_for_previous_stop(session)
    session.refresh_from_db()
    if session.status != HubSession.Status.STARTING:
        return False  # stopped before the hub was asked
    try:
        code = _start_when_free(
            backend, name, spawn_options(session), selectors.team_groups(session.user)
        )
    except HubTimeout:
        if _server_exists(backend, name):
            return True  # the hub took it after all: follow it like a 202
        # It may still act on the request: say so, never "nothing was started".
        return _give_up(session, _no_answer(), background, keep=True)
    except HubUnavailable:
        return _give_up(session, str(_unreachable()), background)
    except HubError as exc:
        if exc.status == 400 and _server_exists(backend, name):
            # the hub already runs a server the site did not know of: reconcile adopts it
            message = _(
                "A session is already running for you; it will appear here within a minute."
            )
            return _give_up(session, message, background, keep=True)
        _stop_quietly(backend, name)
        message = _("The session could not be started: %(why)s") % {"why": exc}
        return _give_up(session, message, background, keep=True)
    session.refresh_from_db()
    if session.status != HubSession.Status.STARTING:
        _stop_quietly(backend, name)  # a stop was asked for while the hub was starting it
        return False
    runner.session_news.ring(everyone=True)  # the launch page may follow the hub's progress now
    if code == 201:
        refresh(session)
    return True


def _give_up(session: HubSession, message: str, background: bool, keep: bool = False) -> bool:
    if background or keep:
        ledger.fail(session, message)  # the page shows the row's message
    else:
        ledger.discard(session)  # nothing reached the hub: no trace in the ledger
    if background:
        return False
    raise SessionError(message)


def _wait_for_previous_stop(session: HubSession) -> None:
    """A launch right after a stop: the hub must be done with the old server first."""
    deadline = time.monotonic() + settings.KC_SPAWN_TIMEOUT_S
    stopping = HubSession.objects.filter(user_id=session.user_id, status=HubSession.Status.STOPPING)
    while stopping.exists() and time.monotonic() < deadline:
        time.sleep(0.25)


def _start_when_free(backend, name: str, options: dict, groups: set[str] = frozenset()) -> int:
    """Make the user's hub account and ask the hub to start the server. Past its
    concurrent-spawn limit (429) ask again when a spawn this process follows ends, or after the
    hub's Retry-After (bounded); while the last server is still stopping (400 "pending stop"),
    or when a request timed out (the hub may have taken it: asking again is answered 202 while
    it spawns, or "already running"), after a short backoff."""
    deadline = time.monotonic() + settings.KC_SPAWN_TIMEOUT_S
    delay = 0.25
    timed_out = account = False
    while True:
        seen = runner.spawn_slots.mark()
        try:
            if not account:
                backend.ensure_account(name)
                _sync_team_groups(backend, name, groups)
                account = True
            return backend.start(name, options)
        except HubTimeout:
            timed_out = True
            if time.monotonic() > deadline:
                raise
        except HubUnavailable as exc:
            if timed_out:  # an earlier request may have been taken: never "nothing started"
                raise HubTimeout(str(exc)) from exc
            raise
        except HubError as exc:
            if timed_out and exc.status == 400 and "already running" in str(exc):
                return 202  # our own earlier request started it: follow it
            busy = exc.status == 429 or (exc.status == 400 and "pending stop" in str(exc))
            if not busy or time.monotonic() > deadline:
                raise
            if exc.status == 429:
                wait = min(exc.retry_after or MAX_QUEUE_WAIT_S, MAX_QUEUE_WAIT_S)
                runner.spawn_slots.wait(seen, min(wait, max(0.0, deadline - time.monotonic())))
                continue
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def _sync_team_groups(backend, name: str, groups: set[str]) -> None:
    """Before the spawn: the spawner reads the groups to mount the team folders. A hub that
    refuses the groups still gets the launch (without the team folder), logged."""
    try:
        backend.sync_team_groups(name, set(groups))
    except (HubTimeout, HubUnavailable):
        raise
    except HubError as exc:
        log.warning("team groups of %s not synced, no team folder this time: %s", name, exc)


def _server_exists(backend, name: str) -> bool:
    try:
        return backend.state(name).exists
    except HubError:
        return False


def _stop_quietly(backend, name: str) -> None:
    try:
        backend.stop(name)
    except HubError:
        log.warning("could not stop the server of %s after a failed start", name)


def refresh(session: HubSession, gone_after: float = 2.0) -> HubSession:
    """Bring a starting session up to date with the hub; deliver notebooks once it is ready.
    Only background work calls this (the launch job, the reconcile task): pages only read.
    `gone_after`: seconds after the request when a server the hub does not have means failure."""
    if session.status != HubSession.Status.STARTING:
        return session
    backend = get_backend()
    try:
        state = backend.state(session.hub_username)
    except HubUnavailable:
        return session
    now = timezone.now()
    if state.ready:
        # Notebooks first, so that a page that sees `running` also sees what was delivered.
        ledger.mark_running(session, state.started, delivered=deliver(session))
    elif state.pending:
        if now - session.requested_at > timedelta(seconds=settings.KC_SPAWN_TIMEOUT_S):
            _stop_quietly(backend, session.hub_username)
            ledger.fail(session, _("The session took too long to start and was stopped."))
    elif now - session.requested_at > timedelta(seconds=gone_after):
        ledger.fail(session, _("The session failed to start."))
    return session


def follow_spawn(session: HubSession) -> HubSession:
    """Follow the hub's progress stream of a starting session until it is ready or failed (the
    hub says so the moment it is), then bring the row up to date; polls only if the stream ends
    early or cannot be had. The launch job's way to wait; commands and tests too."""
    failed, ended = "", False
    try:
        for event in get_backend().progress(session.hub_username):
            if event.get("failed"):
                failed = str(event.get("message", ""))
            if event.get("ready") or event.get("failed"):
                ended = True
                break
    except HubError as exc:
        log.info("no progress stream for %s (%s): polling", session.hub_username, exc)
    if ended:
        runner.spawn_slots.ring()  # a place in the hub's spawn queue is free now
    session.refresh_from_db()
    if failed and session.status == HubSession.Status.STARTING:
        state = _state_or_none(session.hub_username)
        if state is not None and not state.exists:
            message = _("The session failed to start: %(why)s") % {"why": failed}
            ledger.fail(session, message)
            return session
    refresh(session)
    session = wait_until_ready(session)
    if not ended:
        runner.spawn_slots.ring()
    return session


def _state_or_none(name: str):
    try:
        return get_backend().state(name)
    except HubError:
        return None


def wait_until_ready(session: HubSession, timeout: float | None = None) -> HubSession:
    """Poll until the session runs, fails or times out (after the progress stream, or alone)."""
    deadline = time.monotonic() + (timeout or settings.KC_SPAWN_TIMEOUT_S + 5)
    while session.status == HubSession.Status.STARTING and time.monotonic() < deadline:
        time.sleep(0.25)
        session.refresh_from_db()
        refresh(session)
    return session


def notebook_path(cohort: Cohort, assignment) -> str:
    return f"{cohort.course.slug}/{assignment.release_filename}"


def open_assignments(user) -> list[tuple[Cohort, object]]:
    pairs = []
    for enrolment in Enrolment.objects.filter(
        user=user, role=Enrolment.Role.STUDENT
    ).select_related("cohort__course", "cohort__version"):
        cohort = enrolment.cohort
        for row in assignment_rows(cohort, user):
            if row.released and row.status != "missed":
                pairs.append((cohort, row.assignment))
    return pairs


def deliver(session: HubSession) -> list[str]:
    """Write released notebooks of open assignments into the server; never over an existing file.
    Returns the paths written (the caller records them in the ledger)."""
    backend = get_backend()
    name = session.hub_username
    written = []
    try:
        for cohort, assignment in open_assignments(session.user):
            path = notebook_path(cohort, assignment)
            if _patiently(backend.file_exists, name, path):
                continue
            _patiently(backend.ensure_directory, name, path.rsplit("/", 1)[0])
            content = json.loads(assignment.release_notebook)
            model = {"type": "notebook", "format": "json", "content": content}
            _patiently(backend.write_file, name, path, model)
            written.append(path)
    except HubError as exc:
        log.warning("delivery to %s stopped: %s", name, exc)
    return written


def _patiently(call, *args, tries: int = 3):
    """A contents call to a server that has just started: its first requests (which check the
    site's token with the hub) can miss the client's timeout on a loaded machine, and a student
    would then find no notebook. Each call is safe to repeat."""
    for attempt in range(1, tries + 1):
        try:
            return call(*args)
        except HubUnavailable:
            if attempt == tries:
                raise
            time.sleep(1.0)


def stop(session: HubSession, reason: str = "user") -> HubSession:
    """Stop a server in the caller's thread (commands, the reconcile task) and close its row."""
    backend = _backend_or_error()
    try:
        backend.stop(session.hub_username)
    except HubUnavailable:
        raise _unreachable() from None
    except HubError as exc:
        raise SessionError(_("The session could not be stopped: %(why)s") % {"why": exc}) from exc
    ledger.request_stop(session, reason)
    ledger.close(session, reason)
    return session


def request_stop(session: HubSession, reason: str = "user") -> HubSession:
    """What the stop button and logout do: the charge ends now, the hub stops it in the
    background (the row stays `stopping` until the hub no longer has the server)."""
    ledger.request_stop(session, reason)
    runner.submit(finish_stop, session.pk)
    return session


def finish_stop(session_pk: int) -> None:
    """Stop the server on the hub and close the row once the hub has let it go. Whatever is
    left (hub unreachable) the reconcile task finishes."""
    session = HubSession.objects.get(pk=session_pk)
    backend = get_backend()
    deadline = time.monotonic() + settings.KC_SPAWN_TIMEOUT_S
    while session.status == HubSession.Status.STOPPING:
        try:
            state = backend.state(session.hub_username)
            if not state.exists:
                ledger.close(session, session.stop_reason)
                return
            if state.pending != "stop":
                backend.stop(session.hub_username)
        except HubError as exc:
            log.warning("stopping the server of %s: %s", session.hub_username, exc)
        if time.monotonic() > deadline:
            log.warning("the server of %s is still stopping; reconcile will close it", session)
            return
        time.sleep(0.25)
        session.refresh_from_db()


def submit_from_session(user, cohort: Cohort, slug: str):
    """Pull the notebook out of the running server and hand it to grading."""
    from grading.models import Submission
    from grading.services import submit

    session = selectors.live_session(user)
    if session is None or session.status != HubSession.Status.RUNNING:
        raise SessionError(_("You have no running session to submit from."))
    assignment = cohort.version.assignments.filter(slug=slug).first()
    if assignment is None:
        raise SessionError(_("This cohort has no assignment %(slug)s.") % {"slug": slug})
    path = notebook_path(cohort, assignment)
    backend = get_backend()
    try:
        content = backend.read_notebook(session.hub_username, path)
    except HubUnavailable:
        raise _unreachable() from None
    except HubError as exc:
        if exc.status == 404:
            raise SessionError(_("Your session has no file %(path)s.") % {"path": path}) from exc
        raise SessionError(_("The notebook could not be read: %(why)s") % {"why": exc}) from exc
    data = json.dumps(content, indent=1, ensure_ascii=False).encode()
    return submit(
        cohort, user, slug, data, origin=Submission.Origin.SESSION, filename=path.rsplit("/")[-1]
    )
