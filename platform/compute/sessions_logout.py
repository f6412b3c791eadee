"""What logging out of the site does to hub access."""

from __future__ import annotations

import logging

from compute import selectors, services
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
    name = backend.account_name(user)
    try:
        backend.end_access(name)  # the hub's own tokens: the browser loses the user's server
        session = selectors.active_session(user)
        if session is not None:
            services.stop(session, "logout")
        else:
            backend.stop(name)
    except (HubError, services.SessionError) as exc:
        log.warning("logout of %s could not end hub access: %s", name, exc)
