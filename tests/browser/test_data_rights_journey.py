"""Data rights and the audit log in a real browser: a student finds "Your data" from their profile
and downloads the archive with their notebook in it; staff open the audit log from the menu,
filter it to grade overrides and download the CSV. Screenshots in English and Korean at 390 and
1440 px: test-artifacts/screenshots/operations/."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import requests

from tests.browser.conftest import ARTIFACTS_DIR
from tests.browser.shots import shoot_widths

SHOTS = ARTIFACTS_DIR / "operations"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(site, name: str) -> None:
    shoot_widths(site, SHOTS, name)


def browser_session(site) -> requests.Session:
    """The browser's cookies in a requests session, to fetch what a click would download."""
    session = requests.Session()
    for cookie in site.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def test_a_student_downloads_their_data_and_staff_export_the_audit_log(site, course_dirs):
    from accounts.models import User
    from grading.services import override_grade, submit
    from learning.models import Enrolment
    from learning.services.enrolment import enrol
    from learning.services.publishing import publish_course
    from tests.site.factories import make_user, open_cohort
    from tests.site.grading_helpers import student_notebook

    instructor, student = make_user("inst"), make_user("stud")
    make_user("staffer", is_staff=True)
    cohort = open_cohort(publish_course("tiny", by=instructor).version.course, instructor)
    enrol(cohort, student, source=Enrolment.Source.MANUAL)
    notebook = student_notebook()
    submit(cohort, student, "add", notebook)
    override_grade(cohort, student, "add", 2.0, "late but fine", by=instructor)

    for language in ("en", "ko"):
        User.objects.filter(username="stud").update(language=language)
        site.driver.delete_all_cookies()
        site.log_in("stud")
        site.open("/accounts/profile/")
        site.click("#profile-my-data")
        site.find("#my-data-download")
        shoot(site, f"my-data-{language}")
    archive = browser_session(site).get(site.find("#my-data-download").get_attribute("href"))
    files = zipfile.ZipFile(io.BytesIO(archive.content))
    (notebook_name,) = [n for n in files.namelist() if n.endswith(".ipynb")]
    assert files.read(notebook_name) == notebook

    for language in ("en", "ko"):
        User.objects.filter(username="staffer").update(language=language)
        site.driver.delete_all_cookies()
        site.log_in("staffer")
        site.click("#nav-audit")
        site.find("#audit-entries")
        shoot(site, f"audit-log-{language}")
    site.driver.find_element("css selector", "select[name=action]").send_keys("점수 재지정")
    site.click("#audit-filters button[type=submit]")
    rows = site.driver.find_elements("css selector", "#audit-entries tbody tr")
    assert [r.get_attribute("data-action") for r in rows] == ["grading.override"]
    csv_url = site.find("#audit-csv").get_attribute("href")
    text = browser_session(site).get(csv_url).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 2 and table[1][3] == "grading.override" and table[1][1] == "inst"
