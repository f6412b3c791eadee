"""What logging out of the site does to hub access. The logout request itself only writes to the
database; the hub is told in the background (compute.runner), so logging out returns at once."""

from __future__ import annotations

import logging

from compute import ledger, runner, selectors, services
from compute.backends import get_backend
from compute.hub import HubError

log = logging.getLogger(__name__)


def end_access(user) -> None:
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    # The hub's GenericOAuthenticator refreshes auth state with these: revoked, it asks to log in.
    get_refresh_token_model().objects.filter(user=user, revoked__isnull=True).delete()
    get_access_token_model().objects.filter(user=user).delete()
    backend = get_backend()
    if not backend.configured():
        return
    session = selectors.live_session(user)
    if session is not None:
        ledger.request_stop(session, "logout")  # the charge ends with the logout
    runner.submit(end_hub_access, backend.account_name(user), session.pk if session else None)


def end_hub_access(name: str, session_pk: int | None) -> None:
    """Delete the hub's tokens of the user (the browser loses the server), then stop it."""
    backend = get_backend()
    try:
        backend.end_access(name)
    except HubError as exc:
        log.warning("logout of %s could not delete its hub tokens: %s", name, exc)
    if session_pk is not None:
        services.finish_stop(session_pk)
        return
    try:
        backend.stop(name)
    except HubError as exc:
        log.warning("logout of %s could not stop its server: %s", name, exc)
