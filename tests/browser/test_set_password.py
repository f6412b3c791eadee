"""A student enrolled from a spreadsheet signs in through the set-password link (issue 13)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_csv_enrolled_student_sets_a_password_and_signs_in(site, course_dirs, instructor, tmp_path):
    from django.core import mail

    from learning.services.publishing import publish_course
    from tests.site.factories import open_cohort

    version = publish_course("tiny", by=instructor).version
    cohort = open_cohort(version.course, instructor)
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\nseoyeon@example.org,Seoyeon Park\n", encoding="utf-8")

    # The instructor imports the roster and sees the link the student was mailed.
    site.log_in("inst")
    site.open(f"/teach/cohorts/{cohort.pk}/")
    site.find("input[name='csv_file']").send_keys(str(roster))
    site.click("form[action$='/roster-csv/'] button[type='submit']")
    site.click("#confirm-import")
    site.text_in("h1", "Roster imported")
    copied = site.find("#password-links input.password-link").get_attribute("value")
    mailed = re.search(r"http\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    assert mail.outbox[-1].to == ["seoyeon@example.org"] and copied == mailed
    site.click("header form[action='/accounts/logout/'] button")

    # The student follows the link, chooses a password and signs in.
    site.driver.get(mailed)
    site.text_in("h1", "Choose a password")
    site.fill({"new_password1": "warp-shuffle-2026", "new_password2": "warp-shuffle-2026"})
    site.click("#set-password-submit")
    site.text_in("h1", "Password saved")
    site.click("#login-link")
    site.fill({"username": "seoyeon", "password": "warp-shuffle-2026"})
    site.click("#login-submit")
    site.open(f"/cohorts/{cohort.pk}/")
    site.text_in("h1", "Tiny course")
