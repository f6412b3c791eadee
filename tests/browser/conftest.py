"""Browser harness: Debian's chromium, driven through chromium-driver by selenium, headless.

Every test gets a fresh browser profile and talks to pytest-django's `live_server` (a real
HTTP server in a thread of this process, sharing the transactional test database). Nothing is
downloaded: chromedriver is named explicitly, so selenium-manager is never asked.

When a browser test fails, a screenshot and the page source are kept under
test-artifacts/screenshots/ in the repository root.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

REPO_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_DIR / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 20  # a 2-core CI machine running the suite and chromium at once
PASSWORD = "pw-for-tests-123"

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--lang=en-US",
]


def _browser_available() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file() and not shutil.which(path):
            return f"{path} is not installed"
    return None


@pytest.fixture(scope="session")
def korean_catalogue():
    """The journeys switch to Korean; the .mo is not in git, so build it when missing or stale."""
    from django.conf import settings

    po = Path(settings.LOCALE_PATHS[0]) / "ko" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if po.is_file() and (not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime):
        subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)
        from django.utils.translation.reloader import translation_file_changed

        translation_file_changed(sender=None, file_path=mo)


def start_chromium(profile_dir: Path, page_load_timeout: float = 30, network_log: bool = False):
    """Headless chromium through chromium-driver, with a throw-away profile directory; with
    `network_log`, every request is kept in the driver's "performance" log."""
    missing = _browser_available()
    if missing:
        pytest.fail(f"{missing}: scripts/test.sh installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    return driver


@pytest.fixture
def browser(live_server, tmp_path_factory, korean_catalogue):
    """A fresh headless chromium per test against the live server."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def _on_new_loaded_page(driver) -> bool:
    try:
        return driver.execute_script(
            "return window.__kcOldPage === undefined && document.readyState === 'complete';"
        )
    except WebDriverException:  # the script ran while the old page was being torn down
        return False


class Site:
    """Small helpers over a driver pointed at the live server; every wait is explicit."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url.rstrip("/")

    def wait(self, timeout: float = WAIT_SECONDS) -> WebDriverWait:
        return WebDriverWait(self.driver, timeout)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.wait().until(lambda d: d.execute_script("return document.readyState") == "complete")

    def find(self, css: str):
        return self.wait().until(
            EC.visibility_of_element_located((By.CSS_SELECTOR, css)), f"no visible {css!r}"
        )

    def find_all(self, css: str):
        return self.wait().until(
            EC.presence_of_all_elements_located((By.CSS_SELECTOR, css)), f"no {css!r}"
        )

    def click(self, css: str) -> None:
        """Click and wait until the browser has left the current page (a form post)."""
        element = self.wait().until(
            EC.element_to_be_clickable((By.CSS_SELECTOR, css)), f"{css!r} is not clickable"
        )
        self.click_element(element)

    def click_element(self, element) -> None:
        # A marker on the old window object tells the pages apart. Selenium's staleness_of
        # asks about the clicked node, and chromium sometimes answers that question mid-
        # navigation with an inspector error instead of "stale".
        self.driver.execute_script("window.__kcOldPage = true;")
        element.click()
        self.wait().until(_on_new_loaded_page, "the click did not lead to a new page")

    def attribute(self, css: str, name: str) -> str | None:
        """An attribute of an element that htmx may be swapping out right now (None then)."""
        try:
            return self.driver.find_element(By.CSS_SELECTOR, css).get_attribute(name)
        except WebDriverException:  # stale or not there yet
            return None

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            element = self.find(f"[name='{name}']")
            element.clear()
            element.send_keys(value)

    def set_value(self, name: str, value: str) -> None:
        """Set an <input> whose native widget is locale-dependent (date, datetime-local)."""
        element = self.find(f"[name='{name}']")
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            element,
            value,
        )

    def text_in(self, css: str, text: str) -> None:
        self.wait().until(
            EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text),
            f"{text!r} never appeared in {css!r}",
        )

    def path_is(self, pattern: str) -> None:
        regex = re.compile(re.escape(self.base_url) + pattern)
        self.wait().until(
            lambda d: regex.fullmatch(d.current_url.split("?")[0]),
            f"the browser never reached a page matching {pattern!r}",
        )

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.open("/accounts/login/")
        self.fill({"username": username, "password": password})
        self.click("#login-submit")
        self.find("#nav-profile")  # only signed-in pages link the profile


@pytest.fixture
def site(browser, live_server) -> Site:
    return Site(browser, live_server.url)


@pytest.fixture
def instructor(transactional_db):
    from django.contrib.auth.models import Group, Permission

    from tests.site.factories import make_user

    user = make_user("inst", display_name="Ada Instructor")
    group, _ = Group.objects.get_or_create(name="Instructors")
    group.permissions.add(
        Permission.objects.get(codename="add_course", content_type__app_label="learning")
    )
    user.groups.add(group)
    return user


# --- failure artifacts ------------------------------------------------------------------------


def _artifact_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_") or "test"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when in {"setup", "call"}:
        driver = getattr(item, "funcargs", {}).get("browser")
        if driver is not None:
            _save_artifacts(item, driver, report)
    return report


def _save_artifacts(item, driver, report) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS_DIR / _artifact_name(item.name)
    saved = []
    try:
        if driver.save_screenshot(str(stem.with_suffix(".png"))):
            saved.append(stem.with_suffix(".png"))
        stem.with_suffix(".html").write_text(driver.page_source, encoding="utf-8")
        saved.append(stem.with_suffix(".html"))
    except Exception as exc:  # the browser may be what broke; keep the original failure
        report.sections.append(("browser artifacts", f"could not save artifacts: {exc!r}"))
        return
    where = ", ".join(str(p.relative_to(REPO_DIR)) for p in saved)
    report.sections.append(("browser artifacts", f"{driver.current_url}\nsaved: {where}"))
