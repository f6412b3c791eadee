"""A solo participant who joins (or founds) a team brings their entries along, as on Kaggle when
teams merge; an organizer's merge of two teams does the same; leaving takes nothing along
(contests.merging, called from teams.services; issue 12, point 4)."""

import pytest
from contests import boards, services
from contests.models import BoardRow, Challenge, Entry, QuotaUsage
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from teams.models import TeamMembership
from teams.services import TeamError, create_team, join_team, leave_team, merge_teams
from tests.site.contests.world import contest_world, hand_in
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def rows(challenge, board="public"):
    challenge.refresh_from_db()
    return [
        (r.name, r.competitor, r.score, r.entries)
        for r in boards.board_rows(challenge, board, True)
    ]


def used(challenge, competitor):
    return dict(
        QuotaUsage.objects.filter(challenge=challenge, competitor=competitor).values_list(
            "day", "used"
        )
    )


def test_a_solo_who_joins_a_team_brings_entries_quota_and_standing_along():
    world = contest_world()
    challenge, solo, team = world["challenge"], world["solo"], world["team_a"]
    hand_in(world, "a1", 0.5, 0.5)
    mine = [hand_in(world, "solo", 0.8, 0.3), hand_in(world, "solo", 0.6, 0.9)]
    assert [r[1] for r in rows(challenge)] == [f"u{solo.pk}", f"t{team.pk}"]
    version = Challenge.objects.get(pk=challenge.pk).board_version

    join_team(solo, team.join_code)

    for entry in mine:
        entry.refresh_from_db()
        assert (entry.competitor, entry.team_id, entry.user_id) == (f"t{team.pk}", team.pk, solo.pk)
    # One row for the team: the best of the three entries on each board, three entries counted.
    assert rows(challenge) == [("Alpha", f"t{team.pk}", 0.8, 3)]
    assert rows(challenge, "private") == [("Alpha", f"t{team.pk}", 0.9, 3)]
    assert not BoardRow.objects.filter(challenge=challenge, competitor=f"u{solo.pk}").exists()
    assert Challenge.objects.get(pk=challenge.pk).board_version > version
    # The quota the solo used is the team's now: 3 of the team's 5 (and of today's 3).
    assert used(challenge, f"u{solo.pk}") == {}
    today = services.event_day(challenge)
    assert used(challenge, f"t{team.pk}") == {None: 3, today: 3}
    with pytest.raises(services.EntryError, match="today's entries"):
        services.submit_entry(challenge, solo, CSV, "p.csv")
    assert AuditEntry.objects.filter(action="contests.entries_join_team").exists()
    # The board page shows the team once and the solo's row nowhere.
    url = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    page = Client().get(url).content.decode()
    assert f'data-competitor="t{team.pk}"' in page and f"u{solo.pk}" not in page


def test_a_solo_who_founds_a_team_makes_their_entries_the_new_teams():
    world = contest_world()
    challenge, solo = world["challenge"], world["solo"]
    entry = hand_in(world, "solo", 0.7)
    team = create_team(world["event"], solo, "Charlie")
    entry.refresh_from_db()
    assert entry.competitor == f"t{team.pk}"
    assert rows(challenge) == [("Charlie", f"t{team.pk}", 0.7, 1)]


def test_a_join_is_refused_whole_when_the_entries_together_pass_the_total_quota():
    world = contest_world()
    challenge, solo, team = world["challenge"], world["solo"], world["team_a"]
    Challenge.objects.filter(pk=challenge.pk).update(quota_total=3)
    hand_in(world, "a1", 0.5)
    hand_in(world, "a2", 0.6)
    hand_in(world, "solo", 0.9)
    hand_in(world, "solo", 0.8)
    with pytest.raises(TeamError, match=r"Together you have handed in 4 entries .* may hand in 3"):
        join_team(solo, team.join_code)
    # Nothing moved, nobody joined.
    assert not TeamMembership.objects.filter(user=solo).exists()
    assert Entry.objects.filter(challenge=challenge, competitor=f"u{solo.pk}").count() == 2
    assert used(challenge, f"u{solo.pk}")[None] == 2
    assert [r[1] for r in rows(challenge)] == [f"u{solo.pk}", f"t{team.pk}"]
    team.refresh_from_db()
    assert team.member_count == 2
    # Exactly the quota together is allowed (a team could have handed in all of them).
    Challenge.objects.filter(pk=challenge.pk).update(quota_total=4)
    join_team(solo, team.join_code)
    assert rows(challenge) == [("Alpha", f"t{team.pk}", 0.9, 4)]


def test_an_organizers_merge_brings_the_other_teams_entries_past_the_quota():
    world = contest_world()
    challenge, alpha, bravo = world["challenge"], world["team_a"], world["team_b"]
    Challenge.objects.filter(pk=challenge.pk).update(quota_total=3)
    hand_in(world, "a1", 0.5)
    hand_in(world, "b1", 0.9, 0.2)
    hand_in(world, "b2", 0.4, 0.8)
    hand_in(world, "a2", 0.3)
    merge_teams(alpha, bravo)
    assert set(Entry.objects.filter(challenge=challenge, is_baseline=False).values_list(
        "competitor", flat=True
    )) == {f"t{alpha.pk}"}  # fmt: skip
    assert rows(challenge) == [("Alpha", f"t{alpha.pk}", 0.9, 4)]
    assert rows(challenge, "private") == [("Alpha", f"t{alpha.pk}", 0.8, 4)]
    assert used(challenge, f"t{alpha.pk}")[None] == 4  # past the 3: nothing left to hand in
    assert used(challenge, f"t{bravo.pk}") == {}
    with pytest.raises(services.EntryError):
        services.submit_entry(challenge, world["b1"], CSV, "p.csv")


def test_final_marks_the_team_made_stay_and_a_joiners_fill_what_room_is_left():
    world = contest_world()
    challenge, solo, team = world["challenge"], world["solo"], world["team_a"]
    Challenge.objects.filter(pk=challenge.pk).update(selection="final", max_final=2)
    challenge.refresh_from_db()
    ours = hand_in(world, "a1", 0.5, 0.5)
    theirs = [hand_in(world, "solo", 0.6, 0.6), hand_in(world, "solo", 0.7, 0.7)]
    for entry in (ours, *theirs):
        entry.refresh_from_db()
        services.set_final(entry, True)
    join_team(solo, team.join_code)
    finals = set(
        Entry.objects.filter(challenge=challenge, is_final=True).values_list("pk", flat=True)
    )
    assert finals == {ours.pk, theirs[1].pk}  # the team's own, then the joiner's newest
    assert rows(challenge, "private") == [("Alpha", f"t{team.pk}", 0.7, 3)]


def test_leaving_a_team_that_has_handed_in_is_refused_and_the_entries_stay():
    # Leaving used to start the leaver again from a whole quota (a new lane): a quota dodge
    # (issue 12; tests/site/contests/test_quota_attacks.py). As on Kaggle, a team that has
    # handed in keeps its members.
    world = contest_world()
    challenge, team = world["challenge"], world["team_a"]
    entry = hand_in(world, "a2", 0.7)
    with pytest.raises(TeamError, match="can no longer leave"):
        leave_team(world["event"], world["a2"])
    entry.refresh_from_db()
    assert entry.competitor == f"t{team.pk}"
    assert rows(challenge) == [("Alpha", f"t{team.pk}", 0.7, 1)]
    assert TeamMembership.objects.filter(team=team, user=world["a2"]).exists()


def test_joining_a_team_elsewhere_leaves_other_events_entries_alone():
    other = contest_world("contest-hack-2")
    entry = hand_in(other, "solo", 0.4)
    world = contest_world()
    from events.services import register

    register(world["event"], other["solo"], code=world["event"].invite_code)
    join_team(other["solo"], world["team_a"].join_code)
    entry.refresh_from_db()
    assert entry.competitor == f"u{other['solo'].pk}"


def test_a_hand_in_racing_a_join_is_refused_whole(monkeypatch):
    world = contest_world()
    challenge, solo, team = world["challenge"], world["solo"], world["team_a"]
    real = services.competitor_for
    looks = []

    def looked_before_the_join(challenge, user):
        looks.append(user)
        answer = real(challenge, user)
        if len(looks) == 1:
            join_team(user, team.join_code)  # commits between the look and the hand-in
        return answer

    monkeypatch.setattr(services, "competitor_for", looked_before_the_join)
    with pytest.raises(services.EntryError, match="Your team changed"):
        services.submit_entry(challenge, solo, CSV, "p.csv")
    assert not Entry.objects.filter(challenge=challenge, competitor=f"u{solo.pk}").exists()
    assert used(challenge, f"u{solo.pk}") == {}
    monkeypatch.undo()
    assert services.submit_entry(challenge, solo, CSV, "p.csv").competitor == f"t{team.pk}"


def test_a_disbanded_teams_entries_stay_off_the_board_when_it_is_rebuilt():
    from teams.services import disband_team

    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.7)
    hand_in(world, "b1", 0.6)
    disband_team(world["team_a"])
    boards.rebuild_board(challenge)
    competitors = [r[1] for r in rows(challenge) if r[1] != "baseline"]
    assert competitors == [f"t{world['team_b'].pk}"]
