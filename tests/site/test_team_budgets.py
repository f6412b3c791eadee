"""GPU-hours granted organization → event → team: members launch on their team's budget, see
what is left, and stop at the team's limit as a person stops at theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compute import reconcile, selectors, services
from compute.hub import ServerState
from compute.models import Allocation, GpuProfile, HubSession, ProfileGrant
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(settings):
    """An event with a 3 GPU-hour pool, 2 GPU-hours per team, the simulator granted to it, and
    a team of two; the hub is configured but down, so a launch that passes every budget check
    reaches it and is told it cannot be reached."""
    from compute.defaults import ensure_default_profiles
    from teams.services import create_team, join_team
    from tests.compute.hubproc import free_port

    settings.KC_HUB_URL = f"http://127.0.0.1:{free_port()}"
    settings.KC_HUB_API_URL = ""
    settings.KC_HUB_API_TOKEN = "not-a-real-token-0123456789"
    settings.KC_HUB_TIMEOUT_S = 2
    settings.KC_SESSION_BACKGROUND = False
    ensure_default_profiles()
    event = hackathon("budget-hack")
    simulator = GpuProfile.objects.get(slug="gpu-1")  # weight 1: an hour costs a GPU-hour
    ProfileGrant.objects.create(profile=simulator, event=event)
    Allocation.objects.create(
        organization=event.organization, event=event, gpu_hours=3, per_team_gpu_hours=2
    )
    ada, ben, cleo = registered(event, "ada", "ben", "cleo")
    team = create_team(event, ada, "Warp")
    join_team(ben, team.join_code)
    other = create_team(event, cleo, "Other")
    return {"event": event, "team": team, "other": other, "ada": ada, "ben": ben, "cleo": cleo}


def _ran(user, team, hours: float) -> HubSession:
    now = timezone.now()
    return HubSession.objects.create(
        user=user,
        profile=GpuProfile.objects.get(slug="gpu-1"),
        hub_username=user.username,
        team=team,
        event_id=team.event_id if team else None,
        status="stopped",
        started_at=now - timedelta(hours=hours),
        stopped_at=now,
        charged_seconds=hours * 3600,
    )


def test_members_share_the_team_budget_and_the_event_pool_caps_it(funded):
    team, ada, ben = funded["team"], funded["ada"], funded["ben"]
    assert selectors.team_budget(team).granted == 2
    _ran(ada, team, 0.5)
    _ran(ben, team, 0.75)
    budget = selectors.team_budget(team)
    assert budget.used == pytest.approx(1.25) and budget.left == pytest.approx(0.75)
    # The team's time is not the members' own.
    assert selectors.budget_for(ada).used == 0
    # An organizer's extra grant to the team adds to its share.
    Allocation.objects.create(
        organization=team.event.organization, event=team.event, team=team, gpu_hours=1
    )
    assert selectors.team_budget(team).left == pytest.approx(1.75)
    # The other team used the event's pool: what is left of it caps this team too.
    _ran(funded["cleo"], funded["other"], 1.5)
    assert selectors.team_budget(team).left == pytest.approx(3 - 1.25 - 1.5)


def test_a_launch_is_charged_to_the_team_and_refused_at_its_limit(funded):
    team, ada = funded["team"], funded["ada"]
    # Budget left: the checks pass and the launch reaches the (down) hub; nothing is kept.
    with pytest.raises(services.SessionError, match="cannot be reached"):
        services.launch(ada, "gpu-1", team.pk)
    assert not HubSession.objects.exists()
    # A team one is not in.
    with pytest.raises(services.SessionError, match="team you are in"):
        services.launch(ada, "gpu-1", funded["other"].pk)
    # Without a team the member has no hours of their own.
    with pytest.raises(services.SessionError, match="Your GPU-hour budget is used up"):
        services.launch(ada, "gpu-1")
    _ran(funded["ben"], team, 2)
    with pytest.raises(services.SessionError, match="team's GPU-hour budget is used up"):
        services.launch(ada, "gpu-1", team.pk)
    # Once the event is over, its teams' hours are no longer offered nor accepted.
    from events.models import Event

    Allocation.objects.create(
        organization=team.event.organization, event=team.event, team=team, gpu_hours=1
    )
    Event.objects.filter(pk=team.event_id).update(ends_at=timezone.now() - timedelta(hours=1))
    assert selectors.budget_teams(ada) == []
    with pytest.raises(services.SessionError, match="while its event runs"):
        services.launch(ada, "gpu-1", team.pk)


def test_a_running_team_session_is_stopped_at_the_teams_limit_not_the_members(funded):
    team, ada = funded["team"], funded["ada"]
    Allocation.objects.create(organization=team.event.organization, user=ada, gpu_hours=50)
    now = timezone.now()
    row = HubSession.objects.create(
        user=ada,
        profile=GpuProfile.objects.get(slug="gpu-1"),
        hub_username="ada",
        team=team,
        event=team.event,
        status="running",
        started_at=now - timedelta(hours=1),
    )
    state = ServerState(exists=True, ready=True, last_activity=now.isoformat())
    assert reconcile._limit_reason(row, state, now) == ""
    _ran(funded["ben"], team, 1)
    assert reconcile._limit_reason(row, state, now) == "over-budget"
    assert selectors.budget_for(ada, now).left == pytest.approx(50)  # her own hours untouched


def test_the_sessions_page_offers_the_teams_budget_and_shows_what_is_left(funded):
    team, ada = funded["team"], funded["ada"]
    _ran(funded["ben"], team, 0.5)
    client = Client()
    client.force_login(ada)
    page = client.get(reverse("sessions")).content.decode()
    assert f'name="charge_to" value="{team.pk}" checked' in page  # no hours of her own
    assert f'data-team="{team.pk}"' in page and "1.50 h left" in page
    response = client.post(
        reverse("session-launch"),
        {"profile": "gpu-1", "charge_to": str(funded["other"].pk)},
        follow=True,
    )
    assert "only launch on the budget of a team you are in" in response.content.decode()
    # Someone outside every funded team sees no choice.
    outsider = Client()
    outsider.force_login(funded["cleo"])
    Allocation.objects.filter(team__isnull=True, event__isnull=False).delete()
    assert 'name="charge_to"' not in outsider.get(reverse("sessions")).content.decode()


def test_organizers_see_each_teams_use_and_grant_more_within_the_pool(funded):
    from tests.site.factories import make_user

    event, team = funded["event"], funded["team"]
    organizer = make_user("org-budget")
    event.roles.create(user=organizer, role="organizer")
    _ran(funded["ben"], team, 0.5)
    client = Client()
    client.force_login(organizer)
    page = client.get(reverse("event-gpu", args=[event.slug])).content.decode()
    assert f'<tr data-team="{team.pk}"><td>Warp</td><td>2.00 h</td>' in page
    assert '<td class="left">1.50 h</td>' in page
    card = client.get(reverse("event-gpu-card", args=[event.slug])).content.decode()
    assert "30 min of 3.00 h" in card
    # The pool is 3 h and the two teams hold 2 h each already: no more can be handed out.
    url = reverse("event-gpu", args=[event.slug])
    response = client.post(url, {"team": team.pk, "hours": "1"}, follow=True)
    assert "all handed out" in response.content.decode()
    Allocation.objects.filter(team__isnull=True).update(gpu_hours=6)
    response = client.post(url, {"team": team.pk, "hours": "1.5"}, follow=True)
    assert "1.5 GPU-hours granted" in response.content.decode()
    assert selectors.team_budget(team).granted == pytest.approx(3.5)
    assert client.post(url, {"team": team.pk, "hours": "lots"}, follow=True).status_code == 200
