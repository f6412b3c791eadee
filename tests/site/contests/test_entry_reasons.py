"""What a team reads about its entries on the challenge page: why one was refused (the code, what
it means and the harness's own detail, both in the reader's language) and that a platform failure gave its
entry back. The browser journey (tests/browser/test_predictions_journey.py) walks the same path."""

from html import escape

import pytest
from contests import services
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.site.contests.world import contest_world, run_to_result, scored
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"
DETAIL = "1900 ids of the test set have no prediction, e.g. '103949'"


def _page_with_a_rejection_and_a_platform_error() -> tuple[Client, str, dict]:
    world = contest_world()
    challenge, a1 = world["challenge"], world["a1"]
    wrong = services.submit_entry(challenge, a1, CSV, "p.csv")
    run_to_result(
        wrong.pk,
        {**scored(None), "status": "rejected", "reason_code": "missing-id", "reason": DETAIL},
    )
    broken = services.submit_entry(challenge, a1, CSV, "q.csv")
    run_to_result(broken.pk, {"status": "error", "reason_code": "sandbox-error",
                              "reason": "no control group", "flags": []})  # fmt: skip
    services.submit_entry(challenge, world["a2"], CSV, "r.csv")  # still queued
    client = Client()
    client.force_login(a1)
    url = reverse("challenge-detail", args=[world["event"].slug, challenge.slug])
    return client, url, {"wrong": wrong, "broken": broken}


def _row(page: str, entry_id: int) -> str:
    start = page.index(f'data-entry="{entry_id}"')
    return page[start : page.index("</tr>", start)]


def test_the_entries_table_says_why_in_words_and_what_the_platform_gave_back():
    client, url, entries = _page_with_a_rejection_and_a_platform_error()
    page = client.get(url).content.decode()
    wrong = _row(page, entries["wrong"].pk)
    assert "missing-id" in wrong
    assert "Every id of the test set needs a row." in wrong
    assert escape(DETAIL) in wrong  # the harness's own words, not only in a hover title
    broken = _row(page, entries["broken"].pk)
    assert "does not count against your entries" in broken
    # Three handed in; the rejection counts, the platform's failure does not.
    assert "1 of 3 entries left today" in page
    assert "place 1 in the queue" in page or "place 2 in the queue" in page
    # On a phone the rows stack (label: value), so every value cell carries its label.
    assert 'class="stacked entries"' in page and 'data-label="Status"' in page


def test_the_reason_reads_in_korean():
    client, url, entries = _page_with_a_rejection_and_a_platform_error()
    User.objects.filter(pk=entries["wrong"].user_id).update(language="ko")
    page = client.get(url).content.decode()
    wrong = _row(page, entries["wrong"].pk)
    assert "테스트 세트의 모든 id에 행이 있어야 합니다." in wrong
    # The harness's own sentence reads in Korean too, with the ids it quoted as they were.
    assert escape("테스트 세트의 id 1900개에 예측이 없습니다. 예: '103949'") in wrong
    assert escape(DETAIL) not in wrong
    assert "제출 횟수에 넣지 않습니다" in _row(page, entries["broken"].pk)
    entry_page = client.get(reverse("entry-detail", args=[entries["wrong"].pk])).content.decode()
    assert "테스트 세트의 모든 id에 행이 있어야 합니다." in entry_page
