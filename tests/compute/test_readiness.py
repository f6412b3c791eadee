"""/readyz against a real JupyterHub: ready with the site's token, not ready with a wrong one."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def test_readiness_asks_the_hub_with_the_sites_token(hub_settings, settings):
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"]["hub"].startswith("ok: JupyterHub ")
    settings.KC_HUB_API_TOKEN = "a-token-the-hub-never-issued"
    refused = Client().get("/readyz")
    assert refused.status_code == 503 and refused.json()["checks"]["hub"].startswith("failed")
