"""The hub's OAuth application at the site: created or updated, plaintext secret kept on disk."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings

HUB_CLIENT_ID = "kernelcamp-hub"


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / "hub-oauth-client.json"


def ensure_hub_application(
    redirect_uri: str, client_id: str = HUB_CLIENT_ID, client_secret: str | None = None
) -> dict[str, str]:
    """Create or update the application; the toolkit hashes the secret, so the plaintext is
    written (mode 600) to the data dir, where the hub's config reads it."""
    from oauth2_provider.models import get_application_model

    path = credentials_path()
    if client_secret is None and path.exists():
        stored = json.loads(path.read_text())
        if stored.get("client_id") == client_id:
            client_secret = stored["client_secret"]
    client_secret = client_secret or secrets.token_urlsafe(40)
    Application = get_application_model()
    app = Application.objects.filter(client_id=client_id).first() or Application(
        client_id=client_id
    )
    app.name = "JupyterHub"
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = redirect_uri
    app.algorithm = Application.RS256_ALGORITHM
    app.skip_authorization = True  # the hub is part of the site: no consent screen
    app.client_secret = client_secret
    app.save()
    data = {"client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.chmod(path, 0o600)
    return data
