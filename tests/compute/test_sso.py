"""Single sign-on: the hub logs users in through the site (OIDC), and a site logout ends it."""

from __future__ import annotations

import re

import pytest
import requests
from oauth2_provider.models import AccessToken

from compute.oauth_app import ensure_hub_application

pytestmark = pytest.mark.django_db(transaction=True)


def site_login(http: requests.Session, response: requests.Response) -> requests.Response:
    """Fill in the site's login form the OAuth redirect led to."""
    assert "/accounts/login/" in response.url, response.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
    return http.post(
        response.url,
        data={"csrfmiddlewaretoken": token, "username": "stud", "password": "pw-for-tests-123"},
        headers={"Referer": response.url},
    )


def test_oauth_login_through_the_site_then_logout_ends_hub_access(
    hub_settings, live_server, student, cohort, settings, tmp_path
):
    hub = hub_settings
    settings.DATA_DIR = tmp_path
    ensure_hub_application(
        f"{hub.url}/hub/oauth_callback", client_id=hub.client_id, client_secret=hub.client_secret
    )
    http = requests.Session()
    response = http.get(f"{hub.url}/hub/oauth_login", timeout=60)
    response = site_login(http, response)
    assert response.status_code == 200, response.text[-2000:]
    assert response.url.startswith(f"{hub.url}/hub/"), response.url

    # The hub knows who logged in, with the cohort group from the site's claims.
    me = http.get(f"{hub.url}/hub/api/user", timeout=30)
    assert me.status_code == 200 and me.json()["name"] == "stud"
    user = hub.api("GET", "/users/stud").json()
    assert f"cohort-{cohort.pk}" in user["groups"]
    assert AccessToken.objects.filter(user=student).exists()

    # Students cannot start a server through the hub: only the site may (after its checks).
    assert http.get(f"{hub.url}/hub/spawn", timeout=30).status_code == 403

    # Logging out of the site revokes the site's tokens and the hub's: the hub asks again.
    page = http.get(f"{live_server.url}/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    out = http.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/"},
        timeout=30,
    )
    assert out.status_code == 200
    assert not AccessToken.objects.filter(user=student).exists()
    import time

    # The hub is told in the background (logout returns at once): its tokens go soon after.
    deadline = time.monotonic() + 90
    while True:
        tokens = hub.api("GET", "/users/stud/tokens").json()
        if (tokens["api_tokens"] == [] and not tokens.get("oauth_tokens")) or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.5)
    assert tokens["api_tokens"] == [] and not tokens.get("oauth_tokens"), tokens

    time.sleep(1.5)  # past the hub's auth_refresh_age (1 s in tests)
    again = http.get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
    assert again.status_code == 302 and "/hub/login" in again.headers["Location"]
