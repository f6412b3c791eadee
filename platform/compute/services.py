"""Write paths of sessions: launch, follow the spawn, deliver notebooks, stop, submit from a session."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compute import selectors
from compute.backends import get_backend
from compute.hub import HubError, HubTimeout, HubUnavailable
from compute.models import GpuProfile, HubSession
from learning.models import Cohort, Enrolment
from learning.selectors import assignment_rows

log = logging.getLogger(__name__)


class SessionError(ValueError):
    """Something the person asking should be told, in words."""


def _unreachable() -> SessionError:
    return SessionError(
        _("The session service cannot be reached right now. Nothing was started; try again soon.")
    )


def _backend_or_error():
    backend = get_backend()
    if not backend.configured():
        raise SessionError(_("GPU sessions are not set up on this site."))
    return backend


def launch(user, profile_slug: str) -> HubSession:
    """Start the user's one server with a profile they may use and can pay for."""
    backend = _backend_or_error()
    profile = GpuProfile.objects.filter(slug=profile_slug, active=True).first()
    if profile is None or not selectors.may_use(user, profile):
        raise SessionError(_("You may not use the profile “%(slug)s”.") % {"slug": profile_slug})
    budget = selectors.budget_for(user)
    if profile.cost_weight > 0 and budget.left <= 0:
        raise SessionError(
            _(
                "Your GPU-hour budget is used up (%(used).2f of %(granted).2f GPU-hours). "
                "Ask your instructor for more time."
            )
            % {"used": budget.used, "granted": budget.granted}
        )
    name = backend.account_name(user)
    try:
        with transaction.atomic():
            session = HubSession.objects.create(
                user=user,
                profile=profile,
                hub_username=name,
                cost_weight=profile.cost_weight,
                organization_id=selectors.charged_organization(user),
            )
    except IntegrityError:
        raise SessionError(
            _("You already have a session; stop it before starting another.")
        ) from None
    try:
        backend.ensure_account(name)
        code = _start_within_spawn_limit(backend, name, profile.slug)
    except HubUnavailable as exc:
        if isinstance(exc, HubTimeout) and _server_exists(backend, name):
            return session  # the hub took it after all: follow it like a 202
        session.delete()  # nothing half-started: the hub never took the request
        raise _unreachable() from None
    except HubError as exc:
        if exc.status == 400 and _server_exists(backend, name):
            # the hub already runs a server the site did not know of: reconcile adopts it
            session.delete()
            raise SessionError(
                _("A session is already running for you; it will appear here within a minute.")
            ) from exc
        _fail(session, str(exc))
        _stop_quietly(backend, name)
        raise SessionError(_("The session could not be started: %(why)s") % {"why": exc}) from exc
    if code == 201:
        refresh(session)
    return session


def _start_within_spawn_limit(backend, name: str, slug: str) -> int:
    """The hub answers 429 past its concurrent-spawn limit: wait and ask again."""
    deadline = time.monotonic() + settings.KC_SPAWN_TIMEOUT_S
    delay = 0.5
    while True:
        try:
            return backend.start(name, {"profile": slug})
        except HubError as exc:
            if exc.status != 429 or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def _server_exists(backend, name: str) -> bool:
    try:
        return backend.state(name).exists
    except HubError:
        return False


def _fail(session: HubSession, message: str) -> None:
    HubSession.objects.filter(pk=session.pk).update(
        status=HubSession.Status.FAILED, stopped_at=timezone.now(), message=message[:2000]
    )
    session.refresh_from_db()


def _stop_quietly(backend, name: str) -> None:
    try:
        backend.stop(name)
    except HubError:
        log.warning("could not stop the server of %s after a failed start", name)


def refresh(session: HubSession) -> HubSession:
    """Bring a starting session up to date with the hub; deliver notebooks once it is ready."""
    if session.status != HubSession.Status.STARTING:
        return session
    backend = get_backend()
    try:
        state = backend.state(session.hub_username)
    except HubUnavailable:
        return session
    now = timezone.now()
    if state.ready:
        won = HubSession.objects.filter(pk=session.pk, status=HubSession.Status.STARTING).update(
            status=HubSession.Status.RUNNING, started_at=now, hub_started=state.started
        )
        session.refresh_from_db()
        if won:
            deliver(session)
    elif state.pending:
        if now - session.requested_at > timedelta(seconds=settings.KC_SPAWN_TIMEOUT_S):
            _stop_quietly(backend, session.hub_username)
            _fail(session, _("The session took too long to start and was stopped."))
    elif now - session.requested_at > timedelta(seconds=2):
        _fail(session, _("The session failed to start."))
    return session


def wait_until_ready(session: HubSession, timeout: float | None = None) -> HubSession:
    """Poll until the session runs, fails or times out (for commands, tests and benchmarks)."""
    deadline = time.monotonic() + (timeout or settings.KC_SPAWN_TIMEOUT_S + 5)
    while session.status == HubSession.Status.STARTING and time.monotonic() < deadline:
        time.sleep(0.25)
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
    """Write released notebooks of open assignments into the server; never over an existing file."""
    backend = get_backend()
    written = []
    try:
        for cohort, assignment in open_assignments(session.user):
            path = notebook_path(cohort, assignment)
            if backend.file_exists(session.hub_username, path):
                continue
            backend.ensure_directory(session.hub_username, path.rsplit("/", 1)[0])
            content = json.loads(assignment.release_notebook)
            model = {"type": "notebook", "format": "json", "content": content}
            backend.write_file(session.hub_username, path, model)
            written.append(path)
    except HubError as exc:
        log.warning("delivery to %s stopped: %s", session.hub_username, exc)
    if written:
        HubSession.objects.filter(pk=session.pk).update(delivered=session.delivered + written)
        session.refresh_from_db()
    return written


def close(session: HubSession, reason: str, stopped_at=None) -> None:
    """Write the final charge of a session that no longer runs."""
    stopped_at = stopped_at or timezone.now()
    charged = 0.0
    if session.started_at is not None:
        charged = max(0.0, (stopped_at - session.started_at).total_seconds()) * session.cost_weight
    HubSession.objects.filter(pk=session.pk, status__in=HubSession.ACTIVE).update(
        status=HubSession.Status.STOPPED,
        stopped_at=stopped_at,
        charged_seconds=charged,
        stop_reason=reason[:32],
    )
    session.refresh_from_db()


def stop(session: HubSession, reason: str = "user") -> HubSession:
    backend = _backend_or_error()
    try:
        backend.stop(session.hub_username)
    except HubUnavailable:
        raise _unreachable() from None
    except HubError as exc:
        raise SessionError(_("The session could not be stopped: %(why)s") % {"why": exc}) from exc
    if session.status == HubSession.Status.STARTING:
        _fail(session, _("Stopped before it was ready."))
    else:
        close(session, reason)
    return session


def submit_from_session(user, cohort: Cohort, slug: str):
    """Pull the notebook out of the running server and hand it to grading."""
    from grading.models import Submission
    from grading.services import submit

    session = selectors.active_session(user)
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
