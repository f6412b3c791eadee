"""The demo journeys, run by tests/ops/test_offline.py inside a network namespace that has only
loopback (not collected on its own: its name does not start with test_).

The README's run command brings up the site, the hub and the workers; chromium, started inside
the same namespace with its network log on, walks the site as the demo student and an
instructor, launches a session, opens JupyterLab, submits from the session and waits for the
grade (tests/browser/test_run_command.py's journey). Every URL the browser requested, and every
asset the served HTML and CSS point at, is written to $KC_OFFLINE_REPORT for the outer test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.browser.conftest import Site, start_chromium
from tests.browser.test_run_command import (  # noqa: F401  demo is a fixture
    DEMO_PASSWORD,
    _ctrl_c_stops_everything,
    _journey,
    demo,
)

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Where an HTML page or a stylesheet makes the browser fetch something by itself.
HTML_ASSET = re.compile(
    r"<(?:script|img|iframe|source|embed|audio|video)\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)"
    r"|<link\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)",
    re.I,
)
CSS_ASSET = re.compile(r"url\(\s*[\"']?([^\"')]+)|@import\s+[\"']([^\"']+)", re.I)
# Pages walked besides the journey: the student's and an instructor's main pages.
STUDENT_PAGES = ["/", "/sessions/", "/events/", "/accounts/profile/", "/accounts/my-data/"]
INSTRUCTOR_PAGES = ["/", "/teach/"]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {
        "data",
        "blob",
        "about",
        "chrome",
        "chrome-untrusted",
        "devtools",
        "javascript",
        "",
    }:
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture
def logged_browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    driver = start_chromium(profile, page_load_timeout=120, network_log=True)
    try:
        yield driver
    finally:
        driver.quit()


class NetworkLog:
    """Every request the browser made, drained from chromium's performance log as it goes."""

    def __init__(self, driver):
        self.driver = driver
        self.requested: list[str] = []
        self.documents: list[tuple[str, str]] = []  # (url, mime type) of HTML and CSS

    def drain(self) -> None:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                self.requested.append(params["request"]["url"])
            elif message["method"] == "Network.responseReceived":
                response = params["response"]
                if response.get("mimeType") in {"text/html", "text/css"}:
                    self.documents.append((response["url"], response["mimeType"]))


def scan_assets(documents, cookies: dict) -> list[str]:
    """Fetch each HTML page and stylesheet the browser got and list outside assets it names."""
    session = requests.Session()
    for name, value in cookies.items():
        session.cookies.set(name, value)
    found = []
    for url, mime in dict.fromkeys(documents):
        if not is_local(url):
            continue
        try:
            body = session.get(url, timeout=20).text
        except requests.RequestException:
            continue
        pattern = HTML_ASSET if mime == "text/html" else CSS_ASSET
        for match in pattern.finditer(body):
            target = urljoin(url, next(g for g in match.groups() if g))
            if not is_local(target):
                found.append(f"{url} -> {target}")
    return found


def walk(site: Site, network: NetworkLog, username: str, pages: list[str]) -> None:
    site.open("/accounts/login/")
    site.fill({"username": username, "password": DEMO_PASSWORD})
    site.click("#login-submit")
    for page in pages:
        site.open(page)
    network.drain()
    site.driver.delete_all_cookies()


def test_the_demo_journeys_reach_nothing_outside(demo, logged_browser):  # noqa: F811
    network = NetworkLog(logged_browser)
    site = Site(logged_browser, demo["site"])
    walk(site, network, "instructor", INSTRUCTOR_PAGES)
    walk(site, network, "student1", STUDENT_PAGES)
    try:
        _journey(demo, logged_browser)  # launch, JupyterLab, submit from the session, a grade
    finally:
        network.drain()
    # While the site, the hub and the student's server still run: what their pages point at.
    cookies = {c["name"]: c["value"] for c in logged_browser.get_cookies()}
    logged_browser.get(demo["site"] + "/")
    cookies.update({c["name"]: c["value"] for c in logged_browser.get_cookies()})
    outside_assets = scan_assets(network.documents, cookies)
    report = {
        "requested": sorted(set(network.requested)),
        "outside_requests": sorted({u for u in network.requested if not is_local(u)}),
        "outside_assets": outside_assets,
        "documents": len(set(network.documents)),
        "site": demo["site"],
        "hub": demo["hub"],
    }
    Path(os.environ["KC_OFFLINE_REPORT"]).write_text(json.dumps(report, indent=1))
    _ctrl_c_stops_everything(demo)
