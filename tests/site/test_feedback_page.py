"""The feedback page in the site's design: what it shows, what student output cannot do to it,
the offline copy, and when hidden tests appear (they follow the release action)."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from grading import services
from tests.site.feedback_helpers import FAKE_SCORE, hostile_notebook
from tests.site.grading_helpers import grader_result

pytestmark = pytest.mark.django_db

HIDDEN_LINE = "assert add(-1, 1) == 0"


def graded(published, people, notebook: bytes, score: float = 3):
    submission = services.submit(published["cohort"], people["student"], "add", notebook)
    result = grader_result(score)
    result.cells[0].message = "AssertionError: add(1, 2) should be 3" if score < 3 else ""
    result.cells[0].status = "passed" if score == 3 else "failed"
    services.record_result(submission, submission.assignment, result)
    submission.refresh_from_db()
    return submission


def page(user, submission, name="submission-feedback-page"):
    client = Client()
    client.force_login(user)
    return client.get(reverse(name, args=[submission.pk]))


def test_feedback_shows_score_tests_and_code_in_the_site(published, people):
    submission = graded(published, people, hostile_notebook(), score=0)
    response = page(people["student"], submission)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<link rel="stylesheet" href="/static/kernelcamp/site.css">' in body  # the site's page
    assert re.search(r'id="fb-score-value"><strong>0</strong> / 3', body)
    assert "AssertionError: add(1, 2) should be 3" in body  # the test's message
    assert "def add(a, b):" in body  # the student's code, as text
    assert "red printed text" in body and "\x1b[" not in body  # ANSI colours stripped
    assert "<td>an honest table</td>" in body  # harmless HTML keeps its structure
    assert "data:image/png;base64," in body
    assert 'class="kc-math" data-math="inline"' in body  # maths left for KaTeX
    assert "/static/vendor/katex/katex.min.js" in body  # served by the site, no CDN
    assert "cdn" not in body.lower()


def test_student_output_cannot_forge_hide_or_script(published, people):
    submission = graded(published, people, hostile_notebook(), score=0)
    response = page(people["student"], submission)
    body = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert body.count('id="fb-score-value"') == 1  # the forged one lost its id
    assert "<style" not in body and "<script>document" not in body
    assert "onerror=" not in body and 'href="javascript' not in body
    assert 'style="position' not in body and "z-index:2147483647" not in body
    assert "ALL HIDDEN TESTS PASSED" not in body  # the student's copy of a test cell
    # The SVG is only ever an image (no script runs inside <img>), never inline markup.
    assert "<svg" not in body and "data:image/svg+xml;base64," in body
    # The forged score text may appear, but only as plain text inside an output box.
    assert FAKE_SCORE in body
    start = body.index(FAKE_SCORE)
    assert body.rfind('class="fb-output fb-output-html"', 0, start) > body.index('id="fb-notebook"')


def test_hidden_tests_follow_the_release_action(published, people):
    cohort = published["cohort"]
    submission = graded(published, people, hostile_notebook())
    assert HIDDEN_LINE not in page(people["student"], submission).content.decode()
    # Past the due date but not released: still hidden.
    cohort.schedule.update(due_at=timezone.now() - timedelta(minutes=1))
    assert HIDDEN_LINE not in page(people["student"], submission).content.decode()
    assignment_page = reverse("assignment-detail", args=[cohort.pk, "add"])
    client = Client()
    client.force_login(people["student"])
    assert HIDDEN_LINE not in client.get(assignment_page).content.decode()
    services.release_hidden_tests(cohort, "add", people["instructor"])
    assert HIDDEN_LINE in page(people["student"], submission).content.decode()
    # The due date moves back into the future: the release stands, on both pages.
    cohort.schedule.update(due_at=timezone.now() + timedelta(days=3))
    assert HIDDEN_LINE in page(people["student"], submission).content.decode()
    assert HIDDEN_LINE in client.get(assignment_page).content.decode()


def test_offline_copy_is_self_contained(published, people):
    submission = graded(published, people, hostile_notebook(), score=0)
    response = page(people["student"], submission, "submission-feedback-download")
    body = response.content.decode()
    assert response["Content-Disposition"].startswith('attachment; filename="add-')
    assert re.search(r'id="fb-score-value"><strong>0</strong> / 3', body)
    assert "/static/" not in body and 'src="http' not in body  # loads nothing
    assert "katex" in body and "data:font/woff2;base64," in body  # maths and fonts inlined
    meta = html.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', body).group(1)
    )
    hashes = re.findall(r"'sha256-[^']+'", meta)
    assert (
        len(hashes) == 2
        and "default-src 'none'" in meta
        and "'unsafe-inline'" not in (meta.split("script-src")[1].split(";")[0])
    )
    assert body.count("<script>") == 2  # exactly the two allowed by hash
    assert "<style>#fb-score" not in body


def test_feedback_is_for_the_student_and_their_teachers(published, people):
    submission = graded(published, people, hostile_notebook())
    assert page(people["ta"], submission).status_code == 200
    assert page(people["outsider"], submission).status_code == 403
    ungraded = services.submit(published["cohort"], people["student"], "add", hostile_notebook())
    assert page(people["student"], ungraded).status_code == 404


def test_korean_feedback(published, people):
    submission = graded(published, people, hostile_notebook(), score=0)
    client = Client()
    client.force_login(people["student"])
    client.cookies["django_language"] = "ko"
    try:
        response = client.get(reverse("submission-feedback-page", args=[submission.pk]))
    finally:
        translation.activate("en")  # the request left Korean active in this thread
    body = response.content.decode()
    assert "점수" in body and "실패" in body  # score, failed
    assert (
        "내 노트북, 셀별로" in body and "오프라인용으로 내려받기" in body
    )  # this page's own words
    assert "Your notebook, cell by cell" not in body


def test_grades_by_hand_reach_the_student_once_released(published, people):
    from grading.services_manual import CellGradeInput, grade_by_hand, release_manual_grades

    submission = graded(published, people, hostile_notebook(), score=0)
    grade_by_hand(
        submission,
        [CellGradeInput("add-tests", score=2, extra_credit=0.5, comment="Close: mind b < 0.")],
        people["ta"],
    )
    before = page(people["student"], submission).content.decode()
    assert "Close: mind b &lt; 0." not in before
    assert re.search(r'id="fb-score-value"><strong>0</strong> / 3', before)
    teacher = page(people["ta"], submission).content.decode()
    assert "Close: mind b &lt; 0." in teacher and "graded by hand: 2 / 3" in teacher
    release_manual_grades(published["cohort"], "add", people["instructor"])
    after = page(people["student"], submission).content.decode()
    assert "Close: mind b &lt; 0." in after and "+0.50 extra credit" in after
    assert re.search(r'id="fb-score-value"><strong>2\.50?</strong> / 3', after)
