"""Hand-ins, quotas (per event day and in total, platform errors give back) and final marks."""

from datetime import timedelta

import pytest
from contests import selectors, services
from contests.models import Entry, QuotaUsage
from django.utils import timezone

from tests.site.contests.world import contest_world, run_to_result, scored
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def test_publish_keeps_the_folder_and_queues_the_baseline():
    world = contest_world()
    challenge = world["challenge"]
    assert challenge.kind == "predictions" and challenge.metric == "accuracy"
    assert (challenge.quota_per_day, challenge.quota_total) == (3, 5)
    assert "Predict" in challenge.statement and challenge.statement_ko
    baseline = Entry.objects.get(challenge=challenge, is_baseline=True)
    assert baseline.competitor == "baseline" and baseline.status == Entry.Status.QUEUED
    from contests.publishing import publish_challenge

    from tests.site.contests.world import TINY

    again = publish_challenge("tiny-preds", world["event"], folder=TINY)
    assert not again.changed and again.challenge.version == 1
    assert Entry.objects.filter(challenge=challenge, is_baseline=True).count() == 1


def test_publish_names_the_error_of_a_bad_folder(tmp_path):
    from contests.publishing import PublishError, publish_challenge

    world = contest_world()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "challenge.toml").write_text('slug = "broken"\nkind = "poem"\n')
    with pytest.raises(PublishError) as caught:
        publish_challenge("broken", world["event"], folder=tmp_path / "broken")
    assert caught.value.code in {"bad-kind", "bad-manifest"}


def test_a_team_member_hands_in_for_the_team_and_a_loner_for_himself():
    world = contest_world()
    challenge = world["challenge"]
    by_team = services.submit_entry(challenge, world["a2"], CSV, "p.csv")
    alone = services.submit_entry(challenge, world["solo"], CSV, "p.csv")
    assert by_team.team == world["team_a"] and by_team.competitor == f"t{world['team_a'].pk}"
    assert alone.team is None and alone.competitor == f"u{world['solo'].pk}"
    with pytest.raises(services.EntryError, match="csv"):
        services.submit_entry(challenge, world["a1"], b"print(1)", "kernel.py")


def test_daily_and_total_quotas_in_the_event_time_zone():
    world = contest_world()
    challenge = world["challenge"]  # 3 a day, 5 in total
    for _ in range(3):
        services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    with pytest.raises(services.EntryError, match="today"):
        services.submit_entry(challenge, world["a2"], CSV, "p.csv")
    left = selectors.quota(challenge, f"t{world['team_a'].pk}")
    assert (left.left_today, left.left_total) == (0, 2)
    # The team B is not touched by team A's use.
    assert selectors.quota(challenge, f"t{world['team_b'].pk}").left_today == 3
    # Tomorrow in the event's zone: two more, then the total stops it.
    tomorrow = timezone.now() + timedelta(days=1)
    import contests.services as module

    real_now = module.timezone.now
    module.timezone.now = lambda: tomorrow
    try:
        services.submit_entry(challenge, world["a1"], CSV, "p.csv")
        services.submit_entry(challenge, world["a1"], CSV, "p.csv")
        with pytest.raises(services.EntryError, match="all its entries"):
            services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    finally:
        module.timezone.now = real_now
    assert (
        QuotaUsage.objects.get(challenge=challenge, day=None, competitor__startswith="t").used == 5
    )


def test_a_platform_error_gives_the_entry_back_but_a_rejection_does_not():
    world = contest_world()
    challenge = world["challenge"]
    competitor = f"t{world['team_a'].pk}"
    broken = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    wrong = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    assert selectors.quota(challenge, competitor).left_today == 1
    run_to_result(broken.pk, {"status": "error", "reason_code": "sandbox", "reason": "no cgroup"})
    run_to_result(
        wrong.pk, {**scored(None), "status": "rejected", "reason_code": "missing-id", "reason": "x"}
    )
    broken.refresh_from_db()
    wrong.refresh_from_db()
    assert broken.status == Entry.Status.ERROR and broken.quota_day is None
    assert wrong.status == Entry.Status.REJECTED and wrong.reason_code == "missing-id"
    assert selectors.quota(challenge, competitor).left_today == 2


def test_marking_final_is_capped_and_drives_the_private_board():
    from contests.models import BoardRow, Challenge

    world = contest_world()
    challenge = world["challenge"]
    Challenge.objects.filter(pk=challenge.pk).update(selection="final", max_final=1)
    challenge.refresh_from_db()
    best = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    other = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    run_to_result(best.pk, scored(0.9, 0.6))
    run_to_result(other.pk, scored(0.7, 0.8))
    competitor = f"t{world['team_a'].pk}"
    private = BoardRow.objects.get(challenge=challenge, board="private", competitor=competitor)
    assert private.score == 0.6  # nothing marked: the best public entry stands
    best.refresh_from_db()
    other.refresh_from_db()
    services.set_final(other, True)
    with pytest.raises(services.EntryError, match="at most 1"):
        services.set_final(best, True)
    private.refresh_from_db()
    assert private.score == 0.8


@pytest.mark.django_db(transaction=True)
def test_racing_hand_ins_cannot_pass_the_daily_quota():
    """Eight members' hand-ins at once against 3 a day: exactly three are stored."""
    import threading

    from django.db import close_old_connections

    world = contest_world("race")
    challenge = world["challenge"]
    people = [world["a1"], world["a2"]] * 4
    results: list[str] = []
    barrier = threading.Barrier(len(people))

    def attempt(user):
        barrier.wait()
        try:
            services.submit_entry(challenge, user, CSV, "p.csv")
            results.append("in")
        except services.EntryError:
            results.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    competitor = f"t{world['team_a'].pk}"
    assert Entry.objects.filter(challenge=challenge, competitor=competitor).count() == 3
    assert sorted(results) == ["in"] * 3 + ["refused"] * 5
    assert selectors.quota(challenge, competitor).used_today == 3


def test_a_new_version_keeps_the_organizers_quota(tmp_path):
    import shutil

    from contests.models import Challenge
    from contests.publishing import publish_challenge

    from tests.site.contests.world import TINY

    world = contest_world()
    Challenge.objects.filter(pk=world["challenge"].pk).update(quota_per_day=7)
    folder = tmp_path / "tiny-preds"
    shutil.copytree(TINY, folder)
    (folder / "README.md").write_text("# Tiny predictions\n\nNow with more words.\n")
    result = publish_challenge("tiny-preds", world["event"], folder=folder)
    assert result.changed and result.challenge.version == 2
    assert result.challenge.quota_per_day == 7 and "more words" in result.challenge.statement
