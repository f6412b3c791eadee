"""What a walk through the site in a browser found on the grading pages (docs/grading.md):
test results and grader flags in the reader's language, no stale 'held for review' badge."""

from django.test import Client
from django.urls import reverse
from django.utils import translation

from grading import services
from tests.site.grading_helpers import held_review, student_notebook


def _page(client: Client, name: str, pk: int, language: str = "en") -> str:
    with translation.override(language):
        return client.get(reverse(name, args=[pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_result_column_is_translated_and_not_repeated(published, people):
    from grader.result import CellResult, GradeResult

    submission = services.submit(published["cohort"], people["student"], "add", student_notebook())
    # What the grader reports for a passing cell: its message is the word 'passed' itself.
    cell = CellResult("add-tests", points=3, max_points=3, status="passed", message="passed")
    result = GradeResult(cells=[cell], score=3, max_score=3, device="cuda-simulator")
    services.record_result(submission, submission.assignment, result)
    me = Client()
    me.force_login(people["student"])
    english = _page(me, "submission-status", submission.pk)
    assert "<td>passed" in english and 'class="cell-message">passed' not in english
    me.cookies["django_language"] = "ko"
    korean = _page(me, "submission-status", submission.pk, "ko")
    assert "<td>통과" in korean and "<td>passed" not in korean


def test_held_badge_goes_once_the_review_is_decided(published, people):
    review = held_review(published["cohort"], people["student"])
    me = Client()
    me.force_login(people["student"])
    assert "held for review" in _page(me, "submission-status", review.submission_id)
    services.decide_review(review, "released", "fine", people["instructor"])
    assert "held for review" not in _page(me, "submission-status", review.submission_id)


def test_flags_read_as_words_and_keep_their_code(published, people):
    review = held_review(published["cohort"], people["student"])
    teacher = Client()
    teacher.force_login(people["instructor"])
    queue = _page(teacher, "review-queue", published["cohort"].pk)
    assert 'data-flag="review-needed"' in queue and ">needs review</span>" in queue
    teacher.cookies["django_language"] = "ko"
    assert ">검토 필요</span>" in _page(teacher, "review-detail", review.pk, "ko")


def test_a_decided_review_says_the_feedback_predates_it(published, people):
    """The stored feedback still says the points are held; the page says which score counts."""
    review = held_review(published["cohort"], people["student"])
    me = Client()
    me.force_login(people["student"])
    assert "feedback-before-review" not in _page(me, "submission-status", review.submission_id)
    services.decide_review(review, "released", "fine", people["instructor"])
    page = _page(me, "submission-status", review.submission_id)
    assert 'id="feedback-before-review"' in page and "the one that counts" in page
    me.cookies["django_language"] = "ko"
    assert "최종 점수" in _page(me, "submission-status", review.submission_id, "ko")
