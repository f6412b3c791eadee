"""One product: the hub's pages wear the site's look, none of their links or buttons answers 403,
and students' servers do not offer nbgrader's instructor tools (course staff keep them).

Everything runs through the real hub and its proxy, logged in through the site's OAuth."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)

NBGRADER_STAFF_PLUGINS = {
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
}


class Targets(HTMLParser):
    """Where a page's links and buttons lead: <a href>, <form action>, <button formaction>."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.targets.append(found["href"])
        elif tag == "form":
            self.targets.append(found.get("action") or "")
        elif tag == "button" and found.get("formaction"):
            self.targets.append(found["formaction"])
        elif tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(found.get("href") or "")


def parse(page: requests.Response) -> Targets:
    parser = Targets()
    parser.feed(page.text)
    return parser


def log_in_through_the_site(hub_url: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{hub_url}/hub/oauth_login", timeout=60)
    assert "/accounts/login/" in page.url, page.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    page = http.post(
        page.url,
        data={"csrfmiddlewaretoken": token, "username": username, "password": "pw-for-tests-123"},
        headers={"Referer": page.url},
        timeout=60,
    )
    assert page.status_code == 200 and page.url.startswith(f"{hub_url}/hub/"), page.url
    return http


def assert_site_look(page: requests.Response, site_url: str) -> None:
    parsed = parse(page)
    assert f"{site_url}/static/kernelcamp/site.css" in parsed.stylesheets, (page.url, page.text)
    assert 'class="top kc-hub"' in page.text and 'class="brand"' in page.text, page.url


def walk(http: requests.Session, hub_url: str, site_url: str, start: list[str]) -> dict:
    """Visit the start pages and every hub page they link to; fetch each site page they link to.
    The logout link is left out (it ends the walk's session). Returns {url: status}."""
    seen: dict[str, int] = {}
    queue = list(start)
    while queue:
        url = queue.pop(0).split("#")[0]
        if not url or url in seen or "/logout" in url:
            continue
        page = http.get(url, timeout=60)
        seen[url] = page.status_code
        # Hub pages (the stopped server's page included), not JupyterLab's own.
        path = urlsplit(page.url).path
        on_hub = page.url.startswith(hub_url) and (
            path.startswith("/hub/") or page.status_code == 424
        )
        if not on_hub or "text/html" not in page.headers.get("Content-Type", ""):
            continue
        assert_site_look(page, site_url)
        for target in parse(page).targets:
            absolute = urljoin(page.url, target)
            if urlsplit(absolute).scheme in ("http", "https"):
                queue.append(absolute)
    return seen


def start_servers(hub, *names: str) -> None:
    """Start the servers (at once) as the site does, with its service token; wait until ready."""
    for name in names:
        response = hub.api("POST", f"/users/{name}/server", json={"profile": "cpu-simulator"})
        assert response.status_code in (201, 202), response.text
    deadline = time.monotonic() + 120
    waiting = set(names)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            if hub.api("GET", f"/users/{name}").json()["servers"].get("", {}).get("ready"):
                waiting.discard(name)
        time.sleep(0.2)
    assert not waiting, f"not ready: {waiting}\n{hub.log.read_text()[-3000:]}"


ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"


def page_config(http: requests.Session, hub_url: str, name: str) -> dict:
    lab = http.get(f"{hub_url}/user/{name}/lab", timeout=60)
    assert lab.status_code == 200, lab.text[-2000:]
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab.text, re.S
    )
    return json.loads(found.group(1))


def test_hub_pages_wear_the_site_look_lead_nowhere_forbidden_and_hide_nbgrader_from_students(
    hub_login, live_server, student, cohort
):
    """One test, so that the two servers it needs start once, together (each start costs seconds)."""
    from compute.oidc import roles_and_groups
    from learning.models import CourseStaff

    hub, site = hub_login, live_server.url
    instructor = CourseStaff.objects.get(course=cohort.course).user
    assert any(group.startswith("course-") for group in roles_and_groups(instructor)[1])
    # Logging in to the hub syncs the site's groups, which the spawn reads.
    http = log_in_through_the_site(hub.url, "stud")
    staff_http = log_in_through_the_site(hub.url, instructor.username)

    # No server: the home page and the stopped server's page send the student to the site.
    hub_pages = ["home", "token", "login"]
    statuses = walk(
        http,
        hub.url,
        site,
        [f"{hub.url}/hub/{page}" for page in hub_pages] + [f"{hub.url}/user/stud/lab"],
    )
    assert f"{site}/sessions/" in statuses
    forbidden = {url: code for url, code in statuses.items() if code == 403}
    assert not forbidden, forbidden
    not_running = http.get(f"{hub.url}/user/stud/lab", timeout=30)
    assert not_running.status_code == 424 and f'href="{site}/sessions/"' in not_running.text
    assert "/hub/spawn" not in not_running.text

    # The token page's buttons call the API with scopes students lack: it offers none.
    tokens = http.get(f"{hub.url}/hub/token", timeout=30).text
    assert 'id="kc-token"' in tokens
    assert "request-token-form" not in tokens and "revoke-token-btn" not in tokens

    # The hub's own spawn page stays closed to students, in the site's look, with a way on.
    spawn = http.get(f"{hub.url}/hub/spawn", timeout=30)
    assert spawn.status_code == 403
    assert_site_look(spawn, site)
    assert f'href="{site}/sessions/"' in spawn.text

    # Running servers: the home page opens the student's; still nothing answers 403.
    start_servers(hub, "stud", instructor.username)
    home = http.get(f"{hub.url}/hub/home", timeout=30)
    assert 'id="open-server"' in home.text and 'id="stop"' not in home.text
    statuses = walk(http, hub.url, site, [f"{hub.url}/hub/home"])
    assert statuses.get(f"{hub.url}/user/stud") == 200, statuses
    forbidden = {url: code for url, code in statuses.items() if code == 403}
    assert not forbidden, forbidden

    # The student's JupyterLab has no nbgrader instructor tools; the instructor's has them.
    disabled = set(page_config(http, hub.url, "stud")["disabledExtensions"])
    assert NBGRADER_STAFF_PLUGINS <= disabled, disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    assert http.get(f"{hub.url}/user/stud/formgrader", timeout=30).status_code == 404
    disabled = set(page_config(staff_http, hub.url, instructor.username)["disabledExtensions"])
    assert not NBGRADER_STAFF_PLUGINS & disabled, disabled
    # Offline for everyone: no prompt to fetch Jupyter's news from the internet.
    assert ANNOUNCEMENTS in disabled
    assert ANNOUNCEMENTS in set(page_config(http, hub.url, "stud")["disabledExtensions"])
    formgrader = staff_http.get(f"{hub.url}/user/{instructor.username}/formgrader", timeout=60)
    assert formgrader.status_code != 404, formgrader.status_code

    # Logging out of the hub ends on a page in the site's look that leads back to the site.
    out = http.get(f"{hub.url}/hub/logout", timeout=30)
    assert out.status_code == 200
    assert_site_look(out, site)
    assert f'href="{site}/"' in out.text
