"""An instructor grades the written answers of a small cohort by hand, with the keyboard, and
releases them; the student then reads the scores and comments. Screenshots in English and Korean
at 390 and 1440 px are kept under test-artifacts/screenshots/."""

from __future__ import annotations

import json

import nbformat
import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import ARTIFACTS_DIR
from tests.site.factories import MANIFEST, tiny_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ESSAY = "Why is add(a, b) equal to add(b, a)?"
STUDENTS = {"minji": ("Minji Kim", "Addition commutes."), "joon": ("Joon Park", "Because.")}


def written_course_notebook() -> nbformat.NotebookNode:
    """The tiny course's add() with a written answer graded by hand (2 points)."""
    nb = tiny_notebook()
    question = nbformat.v4.new_markdown_cell(ESSAY)
    answer = nbformat.v4.new_markdown_cell(
        "### BEGIN SOLUTION\nBecause + is commutative.\n### END SOLUTION"
    )
    answer.metadata["nbgrader"] = {
        "solution": True,
        "grade": True,
        "locked": False,
        "grade_id": "why-commutes",
        "points": 2,
        "schema_version": 3,
    }
    nb.cells += [question, answer]
    return nb


@pytest.fixture
def graded_cohort(tmp_path, settings, instructor):
    """Two students whose notebooks were graded by the real grader (the written answer waits)."""
    from grader.source import make_release, notebook_bytes
    from grading import services, services_worker
    from learning.services.enrolment import enrol
    from learning.services.publishing import publish_course
    from tests.site.factories import make_user, open_cohort, write_course

    source = written_course_notebook()
    courses, notebooks = write_course(
        tmp_path, MANIFEST.replace("points = 3", "points = 5"), json.loads(nbformat.writes(source))
    )
    settings.KC_COURSES_DIR, settings.KC_NOTEBOOKS_DIR = courses, notebooks
    cohort = open_cohort(publish_course("tiny", by=instructor).version.course, instructor)
    for username, (name, essay) in STUDENTS.items():
        student = make_user(username, display_name=name)
        enrol(cohort, student, source="manual")
        release = make_release(source)
        release.cells[1].source = "def add(a, b):\n    return a + b"
        release.cells[4].source = essay
        submission = services.submit(cohort, student, "add", notebook_bytes(release))
        assert services_worker.grade_now(submission.pk) == "graded"
    return cohort


def shoot(site, name: str, widths=(1440, 390)) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    for width in widths:
        site.driver.set_window_size(width, 1000)
        height = site.driver.execute_script("return document.documentElement.scrollHeight")
        site.driver.set_window_size(width, min(max(height, 600), 3000))
        site.driver.execute_script("window.scrollTo(0, 0)")
        site.driver.save_screenshot(str(ARTIFACTS_DIR / f"manual-{name}-{width}.png"))
    site.driver.set_window_size(1280, 1000)


def korean(site) -> None:
    site.driver.add_cookie({"name": "django_language", "value": "ko", "path": "/"})
    site.driver.refresh()
    site.wait().until(lambda d: d.execute_script("return document.documentElement.lang") == "ko")


def keys(site, *sequence) -> None:
    site.driver.switch_to.active_element.send_keys(*sequence)


def test_instructor_grades_written_answers_by_hand_and_releases(site, graded_cohort):
    cohort = graded_cohort
    site.log_in("inst")
    site.open(f"/teach/cohorts/{cohort.pk}/gradebook/")
    site.text_in("#gradebook tr[data-student='minji']", "to grade by hand")
    site.click(".manual-desk-link[data-slug='add']")
    site.text_in("#manual-progress", "0 of 2 graded")
    shoot(site, "desk-en")
    site.click("#blind-toggle")
    assert "Minji" not in site.find("#manual-desk").text
    site.text_in("#manual-desk", "#1")
    shoot(site, "desk-blind-en", widths=(1440,))
    site.click("#blind-toggle")

    # First student: the page opens on the cell that waits; s, type, Ctrl+Enter.
    site.click("#start-grading")
    site.text_in("#student-label", "Joon Park")  # in name order: Joon, then Minji
    site.text_in(".md-cell.md-waiting", "Because.")
    site.text_in(".md-cell[data-grade-id='add-tests']", "passed")
    shoot(site, "grade-en")
    keys(site, "s")
    keys(site, "0.5")
    comment = site.find(".md-current textarea")
    comment.send_keys("Say which property of + makes it true.")
    keys(site, Keys.CONTROL, Keys.ENTER)
    site.text_in("#student-label", "Minji Kim")
    site.text_in("#manual-progress", "1 of 2 graded")

    # Across students with n/p (the page focuses its waiting cell, so the keys reach it).
    keys(site, "p")
    site.text_in("#student-label", "Joon Park")
    keys(site, "n")
    site.text_in("#student-label", "Minji Kim")
    site.find(".md-cell.md-waiting .md-score").send_keys("2")
    site.find(".md-cell.md-waiting textarea").send_keys("Exactly: addition commutes.")
    site.click("#save-next")
    site.text_in("#manual-progress", "2 of 2 graded")
    site.click("#release-button")
    site.text_in("#release-state", "Released to students")
    korean(site)
    site.text_in("#manual-progress", "2개 중 2개 채점 완료")
    shoot(site, "desk-ko")
    site.click("#manual-desk tr:first-child a")
    site.text_in("#keyboard-help summary", "키보드")
    shoot(site, "grade-ko")

    # The student reads the score and the comment.
    site.driver.delete_all_cookies()
    site.log_in("joon")
    from grading.models import Submission

    site.open(f"/submissions/{Submission.objects.get(student__username='joon').pk}/")
    site.text_in("#score", "3.50 / 5")
    site.text_in("#cell-scores", "Say which property of + makes it true.")
    site.text_in("#cell-scores", "graded by hand: 0.50 / 2")
    shoot(site, "student-en")
    korean(site)
    site.text_in("#cell-scores", "직접 채점: 0.50 / 2")
    shoot(site, "student-ko")
