"""End-to-end journeys in a real (headless) chromium against the live test server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVITE_CODE = re.compile(r"[A-Z0-9-]{4,32}")


def test_instructor_publishes_opens_a_cohort_and_makes_an_invite_code(
    site, course_dirs, instructor
):
    from learning.models import Cohort, InviteCode

    site.log_in("inst")

    # Teaching dashboard: the repository course is not published yet.
    site.click_element(site.find("#nav-teach"))
    site.text_in("h1", "Teaching")
    site.text_in("#repository", "tiny")
    site.text_in("#repository", "not yet")

    # Publish it: the course page shows version 1.
    site.click("#repository button.publish[data-slug='tiny']")
    site.path_is(r"/teach/courses/tiny/")
    site.text_in(".messages", "Published Tiny course version 1.")
    version_numbers = [
        row.find_element(By.CSS_SELECTOR, "td").text for row in site.find_all("#versions tbody tr")
    ]
    assert version_numbers == ["1"]

    # Open a cohort with the form.
    today = timezone.localdate()
    site.fill({"name": "Autumn workshop", "seat_limit": "25"})
    site.set_value("starts_on", today.isoformat())
    site.set_value("ends_on", (today + timedelta(days=14)).isoformat())
    Select(site.find("#cohort-form select[name='time_zone']")).select_by_value("Asia/Seoul")
    site.click("#create-cohort")
    site.path_is(r"/teach/cohorts/\d+/")
    site.text_in(".messages", "Cohort Autumn workshop created.")
    site.text_in("h1", "Autumn workshop")
    site.text_in("#invites", "No invite codes yet.")

    # Make an invite code and read it back from the page.
    site.fill({"max_uses": "30"})
    site.click("#create-invite")
    site.text_in(".messages", "Invite code")
    codes = [element.text.strip() for element in site.find_all("#invites code.invite")]
    assert len(codes) == 1
    code = codes[0]
    assert INVITE_CODE.fullmatch(code), code
    assert f"Invite code {code} created." in site.find(".messages").text
    site.text_in("#invites", "0 / 30")

    cohort = Cohort.objects.get(name="Autumn workshop")
    assert cohort.version.number == 1
    assert cohort.seat_limit == 25
    assert InviteCode.objects.get(code=code).cohort == cohort


@pytest.fixture
def open_cohort_with_code(course_dirs, instructor):
    """What the instructor journey makes, built directly: a published cohort and its code."""
    from learning.services.cohorts import create_invite_code
    from learning.services.publishing import publish_course
    from tests.site.factories import open_cohort

    version = publish_course("tiny", by=instructor).version
    cohort = open_cohort(version.course, instructor)
    invite = create_invite_code(cohort, by=instructor, max_uses=30)
    return cohort, invite.code


def test_student_registers_joins_with_a_code_and_switches_to_korean(site, open_cohort_with_code):
    from accounts.models import User
    from learning.models import Enrolment

    cohort, code = open_cohort_with_code

    # Register from the welcome page.
    site.open("/")
    site.click_element(site.find("main a[href='/accounts/register/']"))
    site.text_in("h1", "Create your account")
    site.fill(
        {
            "username": "minji",
            "email": "minji@example.org",
            "display_name": "Minji Kim",
            "password1": "gpu-kernels-are-fun-42",
            "password2": "gpu-kernels-are-fun-42",
        }
    )
    site.click("#register-submit")
    site.text_in(".messages", "Welcome to KernelCamp, Minji Kim.")
    site.text_in("#no-courses", "You are not in any course yet.")

    # Join with the invite code.
    site.click_element(site.find("header nav a[href='/join/']"))
    site.text_in("h1", "Join a cohort")
    site.fill({"code": code.lower()})  # codes are not case-sensitive
    site.click("#join-submit")
    site.path_is(rf"/cohorts/{cohort.pk}/")
    site.text_in(".messages", f"You joined {cohort}.")
    site.text_in("h1", "Tiny course")
    rows = site.find_all("#assignments tr.assignment-row")
    assert [row.get_attribute("data-slug") for row in rows] == ["add"]
    assert "Adding" in rows[0].text
    assert "Basics" in rows[0].text

    student = User.objects.get(username="minji")
    assert Enrolment.objects.filter(cohort=cohort, user=student).exists()

    # Switch the interface to Korean with the language selector.
    Select(site.find("#language-form select[name='language']")).select_by_value("ko")
    site.wait().until(
        lambda d: d.execute_script("return document.documentElement.lang") == "ko",
        "the page never switched to Korean",
    )
    site.path_is(rf"/cohorts/{cohort.pk}/")
    site.text_in("header nav", "내 강좌")  # "My courses"
    site.text_in("#assignments thead", "과제")  # "Assignment"
    assert "My courses" not in site.find("header nav").text
    student.refresh_from_db()
    assert student.language == "ko"
