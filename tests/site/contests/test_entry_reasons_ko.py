"""A kernel entry refused by a verdict (grader/challenges/verdicts.py), and one held by a flag, read
in the reader's language on the entry page and in "Your entries": the code stays, its meaning
and the harness's sentence come from grader/challenges/reasons.py."""

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
WRONG = "3 of 8 elements differ, largest error 0.5 (rtol 1e-05, atol 1e-08)"
CLOCK = "the entry's clock said 2.500 ms for a call the grader timed at 1.250 ms"


def _entries(language: str):
    world = contest_world()
    challenge, a1 = world["challenge"], world["a1"]
    refused = []
    for code, reason in (("wrong-output", WRONG), ("timer-disagrees", CLOCK)):
        entry = services.submit_entry(challenge, a1, CSV, "p.csv")
        result = {**scored(None), "status": "rejected", "reason_code": code, "reason": reason}
        run_to_result(entry.pk, result)
        refused.append(entry)
    flagged = services.submit_entry(challenge, a1, CSV, "p.csv")
    run_to_result(flagged.pk, scored(0.9, flags=["too-fast", "slow-null-call"]))
    User.objects.filter(pk=a1.pk).update(language=language)
    client = Client()
    client.force_login(a1)
    mine = reverse("challenge-mine", args=[world["event"].slug, challenge.slug])
    return client, mine, refused, flagged


def _row(page: str, entry_id: int) -> str:
    start = page.index(f'data-entry="{entry_id}"')
    return page[start : page.index("</tr>", start)]


def test_a_korean_reader_sees_the_verdict_and_the_flags_in_korean():
    client, mine, (wrong, clock), flagged = _entries("ko")
    page = client.get(mine).content.decode()
    row = _row(page, wrong.pk)
    assert "wrong-output" in row
    assert "출력이 허용 오차 안에서 기준 구현과 일치하지 않습니다." in row
    assert "원소 8개 중 3개가 다릅니다. 가장 큰 오차는 0.5입니다 (rtol 1e-05, atol 1e-08)" in row
    assert "elements differ" not in row and "does not match" not in row
    row = _row(page, clock.pk)
    assert "timer-disagrees" in row and "제출물의 시계와 채점기의 시계가 맞지 않습니다" in row
    assert (
        escape("제출물의 시계는 2.500 ms라고 했지만 채점기가 잰 호출 시간은 1.250 ms입니다") in row
    )
    row = _row(page, flagged.pk)
    assert "너무 빠름: 검토 대기" in row and "채널 응답이 기준 구현보다 훨씬 느림: 검토 대기" in row
    assert 'data-flag="slow-null-call"' in row
    detail = client.get(reverse("entry-detail", args=[wrong.pk])).content.decode()
    assert "출력이 허용 오차 안에서 기준 구현과 일치하지 않습니다." in detail
    assert "원소 8개 중 3개가 다릅니다." in detail and WRONG not in detail


def test_an_english_reader_sees_the_harness_words_as_written():
    client, mine, (wrong, clock), flagged = _entries("en")
    page = client.get(mine).content.decode()
    row = _row(page, wrong.pk)
    assert "The output does not match the reference within the tolerance." in row
    assert WRONG in row
    assert escape("The" + CLOCK[3:] + ".") in _row(page, clock.pk)  # written as a sentence
    assert "too fast: held for review" in _row(page, flagged.pk)
    detail = client.get(reverse("entry-detail", args=[wrong.pk])).content.decode()
    assert WRONG in detail
