"""Teams: create, join by code or link, size limit, leave until the lock, one team per person per
event (a database constraint), looking for a team, and the organizer's merge, split and disband."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, close_old_connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from teams.models import LookingForTeam, Team, TeamMembership
from teams.services import (
    TeamError,
    create_team,
    disband_team,
    join_team,
    leave_team,
    merge_teams,
    set_looking,
    split_team,
)
from tests.site.factories import make_user
from tests.site.hackathon import (
    hackathon,
    in_english,  # noqa: F401  (autouse)
    registered,
)

pytestmark = pytest.mark.django_db


def test_create_join_and_leave():
    event = hackathon()
    ann, bob = registered(event, "ann", "bob")
    team = create_team(event, ann, "Warp Speed")
    assert join_team(bob, team.join_code.lower()) == team
    team.refresh_from_db()
    assert team.member_count == 2
    leave_team(event, bob)
    team.refresh_from_db()
    assert team.member_count == 1
    leave_team(event, ann)
    assert not Team.objects.filter(pk=team.pk).exists(), "the last one out removes the team"


def test_only_registered_people_form_teams():
    event = hackathon()
    with pytest.raises(TeamError, match="Register"):
        create_team(event, make_user("walk-in"), "Nope")


def test_one_team_per_person_per_event_is_a_database_constraint():
    event = hackathon()
    ann, bob = registered(event, "ann", "bob")
    first = create_team(event, ann, "First")
    create_team(event, bob, "Second")
    with pytest.raises(TeamError, match="already in a team"):
        join_team(ann, Team.objects.get(name="Second").join_code)
    with pytest.raises(IntegrityError), transaction.atomic():
        # Even a write that skips the service is refused by the database.
        TeamMembership.objects.create(team=Team.objects.get(name="Second"), event=event, user=ann)
    first.refresh_from_db()
    assert first.member_count == 1
    other = hackathon("other-hack")
    registered_elsewhere = create_team(other, _register(other, ann), "Elsewhere")
    assert registered_elsewhere.memberships.filter(user=ann).exists(), "other events are separate"


def _register(event, user):
    from events.services import register

    register(event, user)
    return user


def test_size_limit_and_lock_time():
    event = hackathon(team_size_max=2)
    ann, bob, cat = registered(event, "ann", "bob", "cat")
    team = create_team(event, ann, "Pair")
    join_team(bob, team.join_code)
    with pytest.raises(TeamError, match="full"):
        join_team(cat, team.join_code)
    Event.objects.filter(pk=event.pk).update(team_lock_at=timezone.now() - timedelta(minutes=1))
    event.refresh_from_db()
    with pytest.raises(TeamError, match="locked"):
        leave_team(event, bob)
    with pytest.raises(TeamError, match="locked"):
        create_team(event, cat, "Too late")


@pytest.mark.django_db(transaction=True)
def test_size_limit_holds_when_many_join_at_once():
    event = hackathon(team_size_max=3)
    people = registered(event, *[f"j{i}" for i in range(10)])
    team = create_team(event, people[0], "Crowded")
    outcomes: list[str] = []
    barrier = threading.Barrier(len(people) - 1)

    def attempt(user):
        barrier.wait()
        try:
            join_team(user, team.join_code)
            outcomes.append("in")
        except TeamError:
            outcomes.append("full")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in people[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    team.refresh_from_db()
    assert team.memberships.count() == 3 == team.member_count
    assert outcomes.count("in") == 2


def test_organizers_merge_split_and_disband():
    event = hackathon(team_size_max=3)
    a, b, c, d = registered(event, "a", "b", "c", "d")
    one = create_team(event, a, "One")
    join_team(b, one.join_code)
    two = create_team(event, c, "Two")
    join_team(d, two.join_code)
    merged = merge_teams(one, two)
    assert merged.member_count == 4, "organizers may go past the size limit"
    assert not Team.objects.filter(name="Two").exists()
    with pytest.raises(TeamError):
        split_team(merged, [a.pk, b.pk, c.pk, d.pk], "All of us")
    split = split_team(merged, [c.pk, d.pk], "Two again")
    merged.refresh_from_db()
    assert merged.member_count == 2 == split.member_count
    assert set(split.memberships.values_list("user__username", flat=True)) == {"c", "d"}
    disband_team(split)
    assert not TeamMembership.objects.filter(user__in=[c, d]).exists()


def test_looking_for_a_team_list():
    event = hackathon()
    ann, bob = registered(event, "ann", "bob")
    set_looking(event, ann, "CUDA, Triton")
    team = create_team(event, bob, "Finders")
    assert LookingForTeam.objects.filter(user=ann).exists()
    join_team(ann, team.join_code)
    assert not LookingForTeam.objects.filter(user=ann).exists(), "joining takes you off the list"
    with pytest.raises(TeamError):
        set_looking(event, ann, "again")


def test_team_pages_and_invite_link():
    event = hackathon()
    organizer = make_user("org")
    event.roles.create(user=organizer, role="organizer")
    ann, bob = registered(event, "ann", "bob")
    client = Client()
    client.force_login(ann)
    teams_url = reverse("event-teams", args=[event.slug])
    client.post(reverse("team-create", args=[event.slug]), {"name": "Kernels"})
    team = Team.objects.get(name="Kernels")
    page = client.get(teams_url).content.decode()
    assert team.join_code in page and reverse("team-join", args=[team.join_code]) in page
    client.force_login(bob)
    client.post(reverse("team-looking", args=[event.slug]), {"note": "I write PTX"})
    assert "I write PTX" in client.get(teams_url).content.decode()
    link = reverse("team-join", args=[team.join_code])
    assert "join-team-button" in client.get(link).content.decode()
    client.post(link)
    assert team.memberships.filter(user=bob).exists()
    organize = reverse("team-organize", args=[team.pk])
    assert client.post(organize, {"action": "disband"}).status_code == 403
    client.force_login(organizer)
    client.post(organize, {"action": "disband"})
    assert not Team.objects.filter(pk=team.pk).exists()


def test_the_invite_link_offers_no_join_to_a_member_of_the_team():
    event = hackathon()
    ann, bob = registered(event, "ann", "bob")
    team = create_team(event, ann, "Warp Speed")
    url = reverse("team-join", args=[team.join_code])
    client = Client()
    client.force_login(ann)
    page = client.get(url).content.decode()
    assert 'id="already-member"' in page and 'id="join-team-button"' not in page
    client.force_login(bob)
    page = client.get(url).content.decode()
    assert 'id="join-team-button"' in page and 'id="already-member"' not in page
