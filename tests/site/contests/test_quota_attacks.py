"""Issue 12, session 6: a hostile participant tries to hand in more than the quotas allow, per
team per day and in total. Each attack is a test; the rule that holds is Kaggle's: a member of a
team that has handed in cannot leave it, a join whose entries together pass the limit is refused,
and an organizer's split or disband hands the team's usage to every new lane."""

import threading

import pytest
from contests import services
from contests.models import Challenge, Entry, QuotaUsage
from contests.scoring import record_result
from django.db import connection

from teams.models import TeamMembership
from teams.services import (
    TeamError,
    create_team,
    disband_team,
    join_team,
    leave_team,
    merge_teams,
    split_team,
)
from tests.site.contests.world import contest_world, run_to_result
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

CSV = b"id,label\n1,0\n"


def limits(world, per_day, total):
    Challenge.objects.filter(pk=world["challenge"].pk).update(
        quota_per_day=per_day, quota_total=total
    )
    world["challenge"].refresh_from_db()


def hand_in(world, who):
    return services.submit_entry(world["challenge"], world[who], CSV, "p.csv")


def total_used(world, competitor):
    return (
        QuotaUsage.objects.filter(
            challenge=world["challenge"], competitor=competitor, day__isnull=True
        )
        .values_list("used", flat=True)
        .first()
        or 0
    )


@pytest.mark.django_db
def test_leave_and_hand_in_alone_is_refused_at_the_leave():
    world = contest_world("qa-leave")
    limits(world, 2, 2)
    hand_in(world, "a1")
    hand_in(world, "a2")
    with pytest.raises(services.EntryError, match="all its entries"):
        hand_in(world, "a2")
    for who in ("a1", "a2"):
        with pytest.raises(TeamError, match="can no longer leave"):
            leave_team(world["event"], world[who])
    # Still the team's, both of them, and nothing was given back.
    assert TeamMembership.objects.filter(team=world["team_a"]).count() == 2
    assert total_used(world, f"t{world['team_a'].pk}") == 2
    with pytest.raises(services.EntryError):
        hand_in(world, "a2")


@pytest.mark.django_db
def test_a_team_that_has_not_handed_in_may_still_be_left():
    world = contest_world("qa-free")
    hand_in(world, "b1")  # another team's entry changes nothing for Alpha
    leave_team(world["event"], world["a2"])
    assert hand_in(world, "a2").competitor == f"u{world['a2'].pk}"


@pytest.mark.django_db
def test_an_entry_that_failed_through_the_platform_still_binds_the_team():
    # Any entry handed in, even one the platform failed and gave the quota back for.
    world = contest_world("qa-err")
    entry = hand_in(world, "a1")
    run_to_result(entry.pk, {"status": "error", "reason_code": "platform", "reason": "x"})
    assert total_used(world, f"t{world['team_a'].pk}") == 0
    with pytest.raises(TeamError, match="can no longer leave"):
        leave_team(world["event"], world["a1"])


@pytest.mark.django_db
def test_the_last_member_of_a_team_that_handed_in_cannot_leave_and_found_another():
    world = contest_world("qa-last")
    solo, event = world["solo"], world["event"]
    team = create_team(event, solo, "Lone")
    limits(world, 1, 1)
    hand_in(world, "solo")
    with pytest.raises(TeamError, match="can no longer leave"):
        leave_team(event, solo)
    with pytest.raises(TeamError, match="already in a team"):
        create_team(event, solo, "Fresh")
    assert TeamMembership.objects.get(user=solo).team_id == team.pk


@pytest.mark.django_db
def test_join_across_teams_with_the_quota_spent_is_refused():
    # A solo spends the whole quota, another team too: the solo cannot bring theirs in.
    world = contest_world("qa-join")
    limits(world, 2, 2)
    hand_in(world, "solo")
    hand_in(world, "solo")
    hand_in(world, "b1")
    with pytest.raises(TeamError, match="cannot join this team"):
        join_team(world["solo"], world["team_b"].join_code)
    # A team with nothing handed in takes them, and has nothing left after.
    join_team(world["solo"], world["team_a"].join_code)
    with pytest.raises(services.EntryError):
        hand_in(world, "a1")
    with pytest.raises(TeamError, match="can no longer leave"):
        leave_team(world["event"], world["solo"])


@pytest.mark.django_db
def test_an_organizers_split_gives_the_new_team_what_the_team_had_used():
    world = contest_world("qa-split")
    limits(world, 2, 3)
    hand_in(world, "a1")
    hand_in(world, "a2")
    new = split_team(world["team_a"], [world["a2"].pk], "Split")
    today = services.event_day(world["challenge"])
    assert dict(QuotaUsage.objects.filter(competitor=f"t{new.pk}").values_list("day", "used")) == {
        None: 2,
        today: 2,
    }
    with pytest.raises(services.EntryError, match="today's entries"):
        hand_in(world, "a2")
    with pytest.raises(services.EntryError, match="today's entries"):
        hand_in(world, "a1")
    # The entries stay the old team's.
    assert set(Entry.objects.filter(user=world["a2"]).values_list("competitor", flat=True)) == {
        f"t{world['team_a'].pk}"
    }


@pytest.mark.django_db
def test_an_organizers_disband_gives_each_member_what_the_team_had_used():
    world = contest_world("qa-disband")
    limits(world, 5, 2)
    hand_in(world, "a1")
    hand_in(world, "a2")
    disband_team(world["team_a"])
    for who in ("a1", "a2"):
        assert total_used(world, f"u{world[who].pk}") == 2
        with pytest.raises(services.EntryError, match="all its entries"):
            hand_in(world, who)


@pytest.mark.django_db
def test_an_organizers_merge_past_the_quota_leaves_the_team_nothing():
    world = contest_world("qa-merge")
    limits(world, 5, 2)
    hand_in(world, "a1")
    hand_in(world, "b1")
    hand_in(world, "b2")
    merged = merge_teams(world["team_a"], world["team_b"])
    assert total_used(world, f"t{merged.pk}") == 3
    for who in ("a1", "b1"):
        with pytest.raises(services.EntryError, match="all its entries"):
            hand_in(world, who)


@pytest.mark.django_db
def test_a_hand_in_racing_a_leave_one_or_the_other_is_refused(monkeypatch):
    world = contest_world("qa-race-leave")
    challenge, a2, team = world["challenge"], world["a2"], world["team_a"]
    real = services.competitor_for

    def left_after_the_look(challenge, user):
        answer = real(challenge, user)
        leave_team(world["event"], user)  # nothing handed in yet: the leave is allowed
        return answer

    # The leave lands between the hand-in's first look and its entry: the hand-in is refused.
    monkeypatch.setattr(services, "competitor_for", left_after_the_look)
    with pytest.raises(services.EntryError, match="Your team changed"):
        services.submit_entry(challenge, a2, CSV, "p.csv")
    monkeypatch.undo()
    assert not Entry.objects.filter(challenge=challenge, user=a2).exists()
    assert total_used(world, f"t{team.pk}") == 0
    # The other order: the entry is in before the leave looks, so the leave is refused.
    hand_in(world, "a1")
    join_team(a2, team.join_code)
    with pytest.raises(TeamError, match="can no longer leave"):
        leave_team(world["event"], a2)


def _race(n, target):
    """Run `target` in `n` threads released together; each thread's outcome (or exception)."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait()
            outcomes[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("edge", ["day", "total", "first"])
def test_two_tabs_racing_for_the_last_entry_get_one(edge):
    # "first": the quota rows do not exist yet, so the tabs also race to create them.
    world = contest_world(f"qa-tabs-{edge}")
    limits(world, 2, 5) if edge == "day" else limits(world, 5, 2)
    if edge == "first":
        limits(world, 1, 5)
    else:
        hand_in(world, "a1")
    outcomes = _race(4, lambda i: hand_in(world, "a1" if i % 2 else "a2"))
    won = [o for o in outcomes if isinstance(o, Entry)]
    refused = [o for o in outcomes if isinstance(o, services.EntryError)]
    assert (len(won), len(refused)) == (1, 3), outcomes
    team = f"t{world['team_a'].pk}"
    expected = 1 if edge == "first" else 2
    assert Entry.objects.filter(competitor=team).count() == expected
    assert total_used(world, team) == expected


@pytest.mark.django_db(transaction=True)
def test_a_solo_racing_a_hand_in_and_a_join_ends_within_the_quota():
    world = contest_world("qa-tabs-join")
    limits(world, 5, 2)
    hand_in(world, "solo")
    hand_in(world, "a1")
    code = world["team_a"].join_code

    def act(i):
        return join_team(world["solo"], code) if i == 0 else hand_in(world, "solo")

    outcomes = _race(2, act)
    team = f"t{world['team_a'].pk}"
    solo = f"u{world['solo'].pk}"
    # Whatever the order: never more entries in one lane than one team may hand in, and the
    # solo's lane is either whole (refused join) or empty (entries moved).
    counts = {
        c: Entry.objects.filter(competitor=c, challenge=world["challenge"]).count()
        for c in (team, solo)
    }
    assert counts[team] <= 2 and counts[solo] <= 2, (outcomes, counts)
    assert total_used(world, team) == counts[team] and total_used(world, solo) == counts[solo]


@pytest.mark.django_db
def test_platform_failures_are_forgiven_only_a_few_times_a_day():
    # An entry that could pass for a platform failure (e.g. by writing the runner's reply
    # itself) would otherwise score for free without end.
    from contests import queue

    world = contest_world("qa-forgive")
    limits(world, 10, 10)
    team = f"t{world['team_a'].pk}"
    for _n in range(services.FORGIVEN_PER_DAY + 2):
        entry = hand_in(world, "a1")
        attempt = queue.claim(entry.pk)
        assert record_result(
            entry.pk, attempt, {"status": "error", "reason_code": "sandbox-error", "reason": ""}
        )
    assert total_used(world, team) == 2
    kept = Entry.objects.filter(competitor=team, quota_day__isnull=False)
    assert kept.count() == 2 and set(kept.values_list("status", flat=True)) == {"error"}


@pytest.mark.django_db
def test_the_teams_page_offers_no_leave_to_a_team_that_has_handed_in():
    from django.test import Client
    from django.urls import reverse

    world = contest_world("qa-page")
    url = reverse("event-teams", args=[world["event"].slug])
    leave = reverse("team-leave", args=[world["event"].slug])
    client = Client()
    client.force_login(world["a1"])
    assert leave in client.get(url).content.decode()
    hand_in(world, "a2")
    page = client.get(url).content.decode()
    assert leave not in page and 'id="team-bound"' in page
    # Posting the leave anyway: refused, with the reason.
    answer = client.post(leave, follow=True)
    assert "can no longer leave" in answer.content.decode()
    assert TeamMembership.objects.filter(user=world["a1"], team=world["team_a"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_leave_and_a_hand_in_racing_in_threads_never_both_succeed():
    # Real transactions side by side (on PostgreSQL the membership row's lock decides; SQLite
    # runs them one after the other). Whoever wins, a member never leaves a team that has their
    # entry in it.
    from tests.site.hackathon import registered

    world = contest_world("qa-race-threads")
    limits(world, 50, 50)
    for n in range(8):
        (user,) = registered(world["event"], f"qa-racer-{n}")
        team = create_team(world["event"], user, f"Racers {n}")

        def act(i, user=user):
            if i == 0:
                return leave_team(world["event"], user) or "left"
            return services.submit_entry(world["challenge"], user, CSV, "p.csv")

        outcomes = _race(2, act)
        left = outcomes[0] == "left"
        in_team = Entry.objects.filter(competitor=f"t{team.pk}").exists()
        assert not (left and in_team), outcomes
        assert left or isinstance(outcomes[0], TeamError), outcomes
