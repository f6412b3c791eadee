"""A scored challenge in a real browser: a team hands in a CPU kernel for `row-softmax`, a real
contest worker (manage.py contest_worker, in its own process) scores it through
`python -m grader score`, the page shows it scored without reloading, the board ranks it; the
organizer freezes the board (others' scores stop, the team still sees its own) and reveals the
private board. Screenshots in English and Korean at 390 and 1440 px are kept under
test-artifacts/screenshots/contests/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS_DIR
from tests.site.grading_helpers import database_url

REPO = Path(__file__).resolve().parents[2]
SHOTS = ARTIFACTS_DIR / "contests"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contest_worker(tmp_path):
    """Starts a real contest worker on the test database when called; stopped at the end."""
    started = []

    def start() -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "KC_SCORE_FAST": "1",  # the harness's few-runs mode: same path, shorter timing
            "KC_CONTEST_CACHE_DIR": str(tmp_path / "challenges"),
        }
        log = (tmp_path / "worker.log").open("wb")
        started.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "contest_worker", "--interval", "0.2"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    yield start
    for worker in started:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def shoot(site, name: str) -> None:
    """The page at a phone's and a desktop's width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1440):
        site.driver.set_window_size(width, 1100)
        site.driver.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    site.driver.set_window_size(1280, 1000)


def sign_in_as(site, username: str) -> None:
    site.driver.delete_all_cookies()
    site.log_in(username)


def test_hand_in_scored_board_freeze_reveal(site, contest_worker):
    from contests.models import Entry
    from contests.services import submit_entry
    from django.db import transaction

    from tests.site.contests.world import journey_world, run_to_result, scored

    world = journey_world("kernel-race", "row-softmax", "Tile Masters")
    event, challenge, warp = world["event"], world["challenge"], world["team"]
    mate, rival = world["mate"], world["rival"]
    # The baseline and the rival's entry get recorded results here, so the worker has one
    # entry to score: the one handed in through the page.
    run_to_result(
        Entry.objects.get(challenge=challenge, is_baseline=True).pk,
        scored(1.0, 1.0, ranked_by="speedup"),
    )
    rival_entry = submit_entry(challenge, rival, b"def solve(x):\n    return x\n", "r.py")
    run_to_result(rival_entry.pk, scored(0.001, 0.001, ranked_by="speedup"))
    contest_worker()

    base = f"/events/{event.slug}/challenges/{challenge.slug}/"
    sign_in_as(site, "hacker")
    site.open(base)
    site.text_in("#quota", "10 of 10")
    site.find("#entry-file").send_keys(str(REPO / "challenges" / "row-softmax" / "starter.py"))
    site.click("#enter button")
    site.text_in(".messages", "queued for scoring")
    site.text_in("#quota", "9 of 10")
    # The entries table polls until the worker has scored it: no reload.
    site.wait(240).until(
        lambda d: site.attribute("#my-entries tr.entry", "data-status") in {"scored", "rejected"},
        "the entry was never scored",
    )
    entry = Entry.objects.get(challenge=challenge, team=warp)
    assert entry.status == "scored", (entry.reason_code, entry.reason)
    assert entry.public_score > 0 and entry.result["timings"]
    shoot(site, "challenge-en")

    site.open(base + "board/")
    site.text_in("#board", "Warp Drive")
    rows = site.find_all("#board tr.board-row")
    names = [row.get_attribute("data-competitor") for row in rows]
    assert names.index(f"t{warp.pk}") < names.index(f"t{rival_entry.team_id}")
    assert "baseline" in names
    site.text_in(".ranked-by", "speed-up")
    shoot(site, "board-en")

    # The organizer freezes the board now.
    sign_in_as(site, "organizer")
    site.open(base + "manage/")
    site.click("#freeze-now")
    site.text_in("#freeze", "frozen")
    shoot(site, "manage-en")

    # After the freeze the rival's better score lands: the team keeps seeing the frozen order,
    # and its own new score appears in its live row.
    with transaction.atomic():  # recorded before the worker could see them
        late = submit_entry(challenge, rival, b"def solve(x):\n    return x\n", "r2.py")
        run_to_result(late.pk, scored(50.0, 60.0, ranked_by="speedup"))
        mine = submit_entry(challenge, mate, b"def solve(x):\n    return x\n", "m.py")
        run_to_result(mine.pk, scored(70.0, 40.0, ranked_by="speedup"))
    sign_in_as(site, "hacker")
    site.open(base + "board/")
    site.find("#frozen-note")
    site.text_in("#own-row", "70.0000")
    frozen_table = site.find("#board table.leaderboard").text
    assert "50.000" not in frozen_table and "70.000" not in frozen_table
    assert "?board=private" not in site.driver.page_source  # not revealed: no private tab

    # The organizer reveals the private board; the team then sees it, live.
    sign_in_as(site, "organizer")
    site.open(base + "manage/")
    site.click("#reveal-now")
    site.text_in("#reveal", "Revealed")
    sign_in_as(site, "hacker")
    site.open(base + "board/?board=private")
    site.text_in("#board", "60.000")  # Tile Masters' private score, revealed
    rows = site.find_all("#board tr.board-row")
    assert rows[0].get_attribute("data-competitor") == f"t{rival_entry.team_id}"
    shoot(site, "private-en")

    # The same pages in Korean.
    from accounts.models import User

    User.objects.filter(username="hacker").update(language="ko")
    site.open(base + "board/?board=private")
    site.text_in("h1", "비공개 순위표")
    shoot(site, "private-ko")
    site.open(base)
    site.text_in("#my-entries", "채점됨")
    shoot(site, "challenge-ko")
