"""The predictions challenge end to end in a real browser: `churn-predictions` is published in an
event; a team hands in a text file (refused at once, nothing counted), then a CSV missing most ids
(waits with its place in the queue, then the real contest worker rejects it with the named reason,
shown in the entries table), then a valid CSV, scored by the worker while the page watches. The
public board updates without reloading when a rival's score lands; the organizer freezes the board
(the rival's later score stays hidden, the team's own live row still moves); the organizer reveals
the private board, rescores the whole challenge while the progress moves, and downloads the CSV.
Screenshots in English and Korean at 390 and 1440 px: test-artifacts/screenshots/predictions/."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS_DIR
from tests.browser.shots import shoot_widths
from tests.browser.test_contest_journey import contest_worker, sign_in_as  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
CHURN = REPO / "challenges" / "churn-predictions"
SHOTS = ARTIFACTS_DIR / "predictions"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NO_RELOAD = "window.__kcStayed = true;"  # set on a page; gone if the browser reloads it
STAYED = "return window.__kcStayed === true;"


TIMINGS = [
    {"shape": {"rows": 256, "cols": 512}, "seed_set": seeds, "entry_median_s": 0.00081,
     "reference_median_s": 0.00098, "speedup": 1.21, "rel_sem": 0.004, "runs": 40}
    for seeds in ("public", "private")
]  # fmt: skip


def predictions(wrong_share: float) -> bytes:
    """A CSV for every test id from the hidden labels, with about `wrong_share` of them flipped:
    entries of known, ordered quality without a model."""
    rows = list(csv.DictReader((CHURN / "secret" / "labels.csv").open(encoding="utf-8")))
    every = round(1 / wrong_share) if wrong_share else 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "churn"])
    for i, row in enumerate(rows):
        label = int(row["churn"])
        writer.writerow([row["id"], 1 - label if every and i % every == 0 else label])
    return out.getvalue().encode()


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def shoot(site, name: str) -> None:
    shoot_widths(site, SHOTS, name)


def as_organizer(site, base: str, button: str, where: str, says: str) -> None:
    """Sign in as the organizer, press a button on the challenge's organizer page, see it done."""
    sign_in_as(site, "organizer")
    site.open(base + "manage/")
    site.click(button)
    site.text_in(where, says)


def scored_by_worker(entry_id: int, timeout: float = 180) -> None:
    """Wait until the worker has finished with an entry handed in behind the page's back."""
    from contests.models import Entry

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = Entry.objects.get(pk=entry_id)
        if entry.status not in {"queued", "running"}:
            assert entry.status == "scored", (entry.reason_code, entry.reason)
            return
        time.sleep(0.3)
    raise AssertionError(f"entry {entry_id} was never scored")


def board_caught_up(site) -> None:
    """The polled board shows the challenge's latest board version (every score landed)."""
    from contests.models import Challenge

    version = Challenge.objects.get(slug="churn-predictions").board_version
    site.wait(30).until(
        lambda d: site.attribute("#board", "data-version") == str(version),
        "the board never polled the latest version",
    )


def test_predictions_hand_in_board_freeze_reveal_rescore_export(site, contest_worker, tmp_path):  # noqa: F811 - the fixture imported above
    from contests.models import Entry
    from contests.publishing import publish_challenge
    from contests.services import submit_entry
    from django.db import transaction

    from accounts.models import User
    from tests.site.contests.world import journey_world, run_to_result, scored

    # The rival's team has a name a spreadsheet would take for a formula; the baseline is queued.
    world = journey_world("churn-cup", "churn-predictions", "+Ultra")
    event, challenge, warp, ultra = (world[k] for k in ("event", "challenge", "team", "rival_team"))
    mate, rival = world["mate"], world["rival"]
    base = f"/events/{event.slug}/challenges/{challenge.slug}/"

    # A text file is refused at the door, by name; nothing is stored or counted.
    sign_in_as(site, "hacker")
    site.open(base)
    site.text_in("#quota", "10 of 10 entries left today")
    site.find("#entry-file").send_keys(write(tmp_path, "notes.txt", b"we think churn is high\n"))
    site.click("#enter button")
    site.text_in(".messages li.error", "This challenge takes a .csv file.")
    site.text_in("#quota", "10 of 10")
    assert not Entry.objects.filter(team=warp).exists()

    # A CSV with 100 of the 2,000 test ids waits in the queue (no worker yet), with its place.
    lines = (CHURN / "baseline.csv").read_bytes().splitlines(keepends=True)
    site.find("#entry-file").send_keys(write(tmp_path, "first-try.csv", b"".join(lines[:101])))
    site.click("#enter button")
    site.text_in(".messages", "queued for scoring")
    site.text_in("#quota", "9 of 10")
    place = site.find("#my-entries tr.entry .queue-place").text
    assert re.fullmatch(r"place [12] in the queue", place), place  # behind the baseline, or not

    # The worker starts and rejects it; the page says why without being reloaded.
    site.driver.execute_script(NO_RELOAD)
    contest_worker()
    site.wait(120).until(
        lambda d: site.attribute("#my-entries tr.entry", "data-status") == "rejected",
        "the incomplete CSV was never rejected",
    )
    reason = site.find("#my-entries tr.entry .entry-reason").text
    assert "missing-id" in reason and "1900 ids of the test set have no prediction" in reason
    assert site.driver.execute_script(STAYED)
    site.text_in("#quota", "9 of 10")  # the entry's own fault: it counts
    shoot(site, "rejected-en")
    rejected = Entry.objects.get(team=warp, status="rejected")
    site.open(f"/contests/entries/{rejected.pk}/")
    site.text_in("#reason", "Every id of the test set needs a row.")
    shoot(site, "rejected-entry-en")
    site.open(base)

    # A platform failure gives the entry back: the page shows the quota as it was.
    with transaction.atomic():  # recorded before the worker could claim it
        broken = submit_entry(challenge, mate, predictions(0.5), "m.csv")
        run_to_result(broken.pk, {"status": "error", "reason_code": "sandbox-error",
                                  "reason": "no control group", "flags": []})  # fmt: skip
    site.open(base)
    site.text_in("#quota", "9 of 10")
    site.text_in(f"#my-entries tr[data-entry='{broken.pk}']", "does not count")

    # A valid CSV is scored by the worker while the page watches.
    site.find("#entry-file").send_keys(write(tmp_path, "model.csv", predictions(0.2)))
    site.click("#enter button")
    site.text_in(".messages", "queued for scoring")
    site.driver.execute_script(NO_RELOAD)
    site.wait(120).until(
        lambda d: site.attribute("#my-entries tr.entry", "data-status") == "scored",
        "the valid CSV was never scored",
    )
    assert site.driver.execute_script(STAYED)
    mine = Entry.objects.filter(team=warp, status="scored").get()
    assert 0.6 < mine.public_score < 1
    site.text_in("#my-entries tr.entry .score", f"{mine.public_score:.4f}")
    site.text_in("#quota", "8 of 10")
    shoot(site, "challenge-en")

    # The public board, watched: a rival's better score lands and moves up without a reload.
    scored_by_worker(Entry.objects.get(challenge=challenge, is_baseline=True).pk)
    site.open(base + "board/")
    site.text_in("#board", "Warp Drive")
    site.text_in(".ranked-by", "macro-F1")  # the metric in words, not the manifest's name
    site.driver.execute_script(NO_RELOAD)
    better = submit_entry(challenge, rival, predictions(0.1), "u.csv")
    scored_by_worker(better.pk)
    site.text_in("#board", "+Ultra")
    better.refresh_from_db()
    site.text_in("#board", f"{better.public_score:.4f}")
    rows = site.find_all("#board tr.board-row")
    order = [row.get_attribute("data-competitor") for row in rows]
    assert order.index(f"t{ultra.pk}") < order.index(f"t{warp.pk}")
    assert "baseline" in order
    assert site.driver.execute_script(STAYED)
    shoot(site, "board-en")

    # The organizer freezes the board.
    as_organizer(site, base, "#freeze-now", "#freeze", "frozen")
    shoot(site, "manage-en")

    # Frozen: the rival's perfect entry lands unseen; the team's own new score shows live.
    sign_in_as(site, "hacker")
    site.open(base + "board/")
    site.find("#frozen-note")
    site.driver.execute_script(NO_RELOAD)
    perfect = submit_entry(challenge, rival, predictions(0), "u2.csv")
    scored_by_worker(perfect.pk)
    ours = submit_entry(challenge, mate, predictions(0.05), "m2.csv")
    scored_by_worker(ours.pk)
    ours.refresh_from_db()
    site.text_in("#own-row", f"{ours.public_score:.4f}")
    board_caught_up(site)
    frozen_table = site.find("#board table.leaderboard").text
    assert "1.0000" not in frozen_table and f"{ours.public_score:.4f}" not in frozen_table
    assert f"{better.public_score:.4f}" in frozen_table  # the rival as it stood at the freeze
    assert site.driver.execute_script(STAYED)
    assert "?board=private" not in site.driver.page_source  # not revealed: no private tab
    shoot(site, "frozen-en")

    # The organizer reveals the private board; the team sees it, the rival's 1.0 on top.
    as_organizer(site, base, "#reveal-now", "#reveal", "Revealed")
    sign_in_as(site, "hacker")
    site.open(base + "board/?board=private")
    site.text_in("#board", "1.0000")
    rows = site.find_all("#board tr.board-row")
    assert rows[0].get_attribute("data-competitor") == f"t{ultra.pk}"
    shoot(site, "private-en")

    # Rescoring the whole challenge: the organizer's page shows it move, without a reload.
    as_organizer(site, base, "#rescore button", ".messages", "queued for rescoring")
    site.text_in("#freeze", "The freeze ended with the reveal")
    total = Entry.objects.filter(challenge=challenge).count()
    progress = site.find("#progress .rescore")
    assert progress.get_attribute("data-total") == str(total)
    assert int(progress.get_attribute("data-done")) < total
    site.driver.execute_script(NO_RELOAD)
    shoot(site, "rescoring-en")
    site.wait(240).until(
        lambda d: site.attribute("#progress .rescore", "data-done") == str(total),
        "the rescore never finished",
    )
    assert site.driver.execute_script(STAYED)
    site.text_in("#progress", f"Rescore: {total} of {total}")
    perfect.refresh_from_db()
    assert perfect.status == "scored" and perfect.private_score == 1.0

    # The CSV export, downloaded by the browser.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    site.driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    site.find("a[href$='board.csv']").click()
    name = f"{event.slug}-{challenge.slug}-board.csv"
    site.wait(30).until(lambda d: (downloads / name).is_file(), "the CSV was never downloaded")
    table = list(csv.DictReader((downloads / name).open(encoding="utf-8")))
    by_board = {(row["board"], row["name"]): row for row in table}
    assert by_board[("private", "'+Ultra")]["rank"] == "1"
    assert float(by_board[("private", "'+Ultra")]["score"]) == 1.0
    assert float(by_board[("public", "Warp Drive")]["score"]) == pytest.approx(ours.public_score)
    assert by_board[("public", "Baseline")]["baseline"] == "1"
    assert {row["ranked_by"] for row in table} == {"metric"}

    # A kernel entry's timings table, at both widths (the other contest page with a wide table).
    with transaction.atomic():  # scored here, before the worker could see the baseline
        kernel = publish_challenge("row-softmax", event).challenge
        timed = Entry.objects.get(challenge=kernel, is_baseline=True)
        run_to_result(timed.pk, scored(1.21, 1.18, ranked_by="speedup", timings=TIMINGS))
    site.open(f"/contests/entries/{timed.pk}/")
    site.text_in("table.timings", "rows=256 cols=512")
    shoot(site, "kernel-entry-en")

    # The same pages in Korean.
    User.objects.filter(username__in=["hacker", "organizer"]).update(language="ko")
    for name, path, heading in [
        ("manage-ko", base + "manage/", "고객 이탈 예측"),
        ("list-ko", f"/events/{event.slug}/challenges/", "챌린지"),
        ("kernel-entry-ko", f"/contests/entries/{timed.pk}/", "행 소프트맥스"),
    ]:
        site.open(path)
        site.text_in("h1", heading)
        shoot(site, name)
    sign_in_as(site, "hacker")
    site.open(base)
    site.text_in("#my-entries", "채점됨")
    site.text_in("#my-entries", "테스트 세트의 모든 id에 행이 있어야 합니다.")
    shoot(site, "challenge-ko")
    site.open(f"/contests/entries/{rejected.pk}/")
    site.text_in("#reason", "missing-id")
    shoot(site, "rejected-entry-ko")
    for name, query, heading in [
        ("public-ko", "?board=public", "공개 순위표"),
        ("private-ko", "?board=private", "비공개 순위표"),
        ("revealed-default-ko", "", "비공개 순위표"),  # after the reveal it opens on the private
    ]:
        site.open(base + "board/" + query)
        site.text_in("h1", heading)
        if query == "?board=public":
            assert "비공개" not in site.find("h1").text
        shoot(site, name)
