"""A student uploads a notebook and watches it graded without reloading; the instructor reads
the gradebook. A real grading worker (manage.py grading_worker) grades in its own process."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.grading_helpers import database_url, student_notebook

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def grading_worker(transactional_db, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url()}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "grading_worker", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield worker
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


@pytest.fixture
def enrolled_cohort(course_dirs, instructor):
    from learning.services.enrolment import enrol
    from learning.services.publishing import publish_course
    from tests.site.factories import make_user, open_cohort

    version = publish_course("tiny", by=instructor).version
    cohort = open_cohort(version.course, instructor)
    enrol(cohort, make_user("minji", display_name="Minji Kim"), source="manual")
    return cohort


def test_upload_watch_grade_and_gradebook(site, enrolled_cohort, grading_worker, tmp_path):
    cohort = enrolled_cohort
    wrong = tmp_path / "add.ipynb"
    wrong.write_bytes(student_notebook("    return a - b"))

    site.log_in("minji")
    site.open(f"/cohorts/{cohort.pk}/assignments/add/")
    site.find("#upload-form input[type=file]").send_keys(str(wrong))
    site.click("#upload-submit")
    site.path_is(r"/submissions/\d+/")
    page_id = site.driver.execute_script("return window.performance.timeOrigin")
    # The status changes in place (htmx polling): a generous bound, not a speed assertion.
    site.wait(timeout=120).until(
        lambda d: site.attribute("#submission-status", "data-status") in {"graded", "failed"},
        "the submission was never graded",
    )
    assert site.driver.execute_script("return window.performance.timeOrigin") == page_id, (
        "the page reloaded instead of updating in place"
    )
    site.text_in("#score", "0 / 3")
    site.text_in("#cell-scores", "add-tests")
    site.text_in("#cell-scores", "AssertionError")
    site.click("#read-feedback")  # the feedback is a page of the site, not a frame
    site.path_is(r"/submissions/\d+/feedback/")
    site.text_in("#fb-score-value", "0 / 3")
    site.text_in("#fb-tests", "add-tests")

    site.open("/accounts/logout/")  # GET shows nothing; log out through the form instead
    site.driver.delete_all_cookies()
    site.log_in("inst")
    site.open(f"/teach/cohorts/{cohort.pk}/gradebook/")
    site.text_in("#gradebook tr[data-student='minji']", "0")
    site.find(".card svg")  # the score distribution plot
    site.text_in("#failed-tests", "add-tests")
    assert site.find("#export-csv").get_attribute("href").endswith("/gradebook.csv")
