"""Feedback, progress and similarity pages in a real browser, English and Korean, phone and
desktop widths, with screenshots kept under test-artifacts/screenshots/feedback-insight/.

The feedback test grades a hostile notebook with the real grader: its saved outputs try to paint
a fake score over the page, hide the real one with CSS and run scripts. None of it may work."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS_DIR
from tests.site.feedback_helpers import (
    COPIED,
    FAKE_SCORE,
    ORIGINAL,
    answer_notebook,
    hostile_notebook,
)
from tests.site.grading_helpers import grader_result, held_review

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS_DIR / "feedback-insight"
WIDTHS = (390, 1440)


@pytest.fixture
def classroom(course_dirs, instructor):
    """A cohort of the tiny course: a hostile answer graded for real, an answer and its renamed
    copy, a held review, a student who has not started."""
    from grading import services
    from learning.services.enrolment import enrol
    from learning.services.publishing import publish_course
    from tests.site.factories import make_user, open_cohort

    version = publish_course("tiny", by=instructor).version
    cohort = open_cohort(version.course, instructor)
    names = {
        "minji": "Minji Kim",
        "seojun": "Seojun Park",
        "jiwoo": "Jiwoo Lee",
        "haneul": "Haneul Choi",
        "yuna": "Yuna Jung",
    }
    people = {u: make_user(u, display_name=n) for u, n in names.items()}
    for user in people.values():
        enrol(cohort, user, source="manual")
    hostile = services.submit(cohort, people["minji"], "add", hostile_notebook())
    services.grade_now(hostile.pk)  # the real grader, in this process
    original = services.submit(cohort, people["seojun"], "add", answer_notebook(ORIGINAL))
    services.record_result(original, original.assignment, grader_result(3))
    held_review(cohort, people["yuna"])
    copy = services.submit(cohort, people["jiwoo"], "add", answer_notebook(COPIED))
    services.record_result(copy, copy.assignment, grader_result(3))
    return {"cohort": cohort, "hostile": hostile, "original": original, "copy": copy}


def shoot(site, name: str, lang: str) -> None:
    """Screenshots at phone and desktop width, the whole page tall (up to a limit)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        site.driver.set_window_size(width, 900)
        height = site.driver.execute_script("return document.documentElement.scrollHeight")
        site.driver.set_window_size(width, min(max(height + 140, 700), 5000))
        site.driver.save_screenshot(str(SHOTS / f"{name}-{lang}-{width}.png"))
        overflow = site.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} ({lang}, {width} px) scrolls sideways by {overflow} px"
    site.driver.set_window_size(1280, 1000)


def in_language(site, lang: str, path: str) -> None:
    if not site.driver.current_url.startswith(site.base_url):
        site.open("/")  # cookies belong to the site's origin
    site.driver.add_cookie({"name": "django_language", "value": lang, "path": "/"})
    site.open(path)


def fetch(site, path: str) -> bytes:
    """GET a page with the browser's session (a download the browser would save)."""
    import urllib.request

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in site.driver.get_cookies())
    request = urllib.request.Request(site.base_url + path, headers={"Cookie": cookies})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def test_feedback_page_resists_hostile_output(site, classroom, tmp_path):
    submission = classroom["hostile"]
    site.log_in("minji")
    path = f"/submissions/{submission.pk}/"
    site.open(path)
    site.click("#read-feedback")
    site.path_is(rf"/submissions/{submission.pk}/feedback/")
    site.text_in("#fb-score-value", "/ 3")
    driver = site.driver
    assert "pwned" not in driver.title  # no script, handler, SVG or markdown script ran
    # The real score is drawn and nothing lies on top of it.
    on_top = driver.execute_script(
        "const el = document.getElementById('fb-score-value');"
        "const r = el.getBoundingClientRect();"
        "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return el.contains(hit);"
    )
    assert on_top, "something covers the real score"
    hidden = driver.execute_script(
        "return ['fb-score', 'fb-tests'].map(id => getComputedStyle("
        "document.getElementById(id)).display)"
    )
    assert hidden == ["block", "block"]
    fixed = driver.execute_script(
        "return [...document.querySelectorAll('#fb-notebook *')]"
        ".filter(e => ['fixed', 'absolute'].includes(getComputedStyle(e).position)"
        " && !e.closest('.katex')).length"
    )
    assert fixed == 0
    fake = driver.execute_script(
        f"return [...document.querySelectorAll('.fb-output')].find(e => e.textContent.includes("
        f"'{FAKE_SCORE}')).getBoundingClientRect().height"
    )
    assert 0 < fake < 200  # the forged text is just text in its box
    # Maths rendered by the locally served KaTeX; \\href stays inert.
    site.find(".kc-math-done .katex")
    assert not driver.execute_script(
        "return document.querySelector('#fb-notebook a[href^=\"javascript\"]')"
    )
    shoot(site, "feedback", "en")
    # The offline copy, opened from disk: the same score, maths rendered by its inlined KaTeX.
    offline = tmp_path / "feedback.html"
    offline.write_bytes(fetch(site, f"/submissions/{submission.pk}/feedback.html"))
    driver.get(offline.as_uri())
    site.text_in("#fb-score-value", "/ 3")
    site.find(".kc-math-done .katex")
    assert "pwned" not in driver.title
    shoot(site, "feedback-offline", "en")
    in_language(site, "ko", f"/submissions/{submission.pk}/feedback/")
    site.text_in("#fb-notebook h2", "내 노트북")
    site.find(".kc-math-done .katex")
    shoot(site, "feedback", "ko")
    in_language(site, "en", f"/cohorts/{classroom['cohort'].pk}/progress/")
    site.text_in("#progress-list", "Adding")
    shoot(site, "my-progress", "en")
    in_language(site, "ko", f"/cohorts/{classroom['cohort'].pk}/progress/")
    site.text_in("h1", "내 진도")
    shoot(site, "my-progress", "ko")


def test_progress_and_similarity_for_the_instructor(site, classroom):
    cohort = classroom["cohort"]
    original, copy = classroom["original"], classroom["copy"]
    site.log_in("inst")
    pages = {
        "progress-grid": (f"/teach/cohorts/{cohort.pk}/progress/", "#progress-grid"),
        "assignment-insight": (
            f"/teach/cohorts/{cohort.pk}/assignments/add/insight/",
            "#failed-tests",
        ),
        "similarity": (f"/teach/cohorts/{cohort.pk}/assignments/add/similarity/", "#similar-pairs"),
        "side-by-side": (
            f"/teach/cohorts/{cohort.pk}/assignments/add/similarity/{original.pk}/{copy.pk}/",
            ".side-by-side",
        ),
    }
    for lang in ("en", "ko"):
        for name, (path, marker) in pages.items():
            in_language(site, lang, path)
            site.find(marker)
            shoot(site, name, lang)
    in_language(site, "en", pages["progress-grid"][0])
    states = site.driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#progress-grid tbody tr')]"
        ".map(r => [r.dataset.student, r.querySelector('td').dataset.state]))"
    )
    assert states == {
        "haneul": "not-started",
        "jiwoo": "graded",
        "minji": "graded",
        "seojun": "graded",
        "yuna": "held",
    }
    site.open(pages["similarity"][0])
    first = site.find("#similar-pairs tbody tr").get_attribute("data-pair")
    assert set(first.split()) == {"seojun", "jiwoo"}
    site.open(pages["side-by-side"][0])
    assert len(site.find_all(".sim-match")) >= 4
