"""Judging: conflict-free balanced assignment (property-style over random instances), scoring,
z-score normalisation with raw scores beside, the tie rule, publishing and CSV."""

import csv
import io
import random
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, OrganizationMembership
from events.models import EventRole
from judging.models import Criterion, JudgeAssignment, JudgeConflict
from judging.selectors import ResultRow, rank_rows, results, z_scores
from judging.services import JudgingError, assign_judges, conflicts, record_scores
from tests.site.factories import make_user
from tests.site.hackathon import (
    hackathon,
    in_english,  # noqa: F401  (autouse)
    registered,
    team_with_project,
)

pytestmark = pytest.mark.django_db


def random_event(rng: random.Random, n: int):
    """A random hackathon: teams of 1-3, judges, organizations shared at random, a few declared
    conflicts."""
    event = hackathon(f"rand-{n}")
    orgs = [
        Organization.objects.create(slug=f"o{n}-{i}", name=f"O{i}", kind="company")
        for i in range(rng.randint(1, 4))
    ]
    judges = [make_user(f"r{n}-judge{i}") for i in range(rng.randint(3, 7))]
    for judge in judges:
        EventRole.objects.create(event=event, user=judge, role="judge")
        if rng.random() < 0.4:
            OrganizationMembership.objects.create(organization=rng.choice(orgs), user=judge)
    teams = []
    for t in range(rng.randint(2, 7)):
        members = registered(event, *[f"r{n}-t{t}-m{i}" for i in range(rng.randint(1, 3))])
        for member in members:
            if rng.random() < 0.25:
                OrganizationMembership.objects.create(organization=rng.choice(orgs), user=member)
        teams.append(team_with_project(event, f"T{t}", members))
    for _ in range(rng.randint(0, 3)):
        JudgeConflict.objects.get_or_create(
            event=event, judge=rng.choice(judges), team=rng.choice(teams)
        )
    return event, judges, teams


def brute_force_conflict(judge, team) -> bool:
    member_ids = set(team.memberships.values_list("user", flat=True))
    judge_orgs = set(judge.organization_memberships.values_list("organization", flat=True))
    team_orgs = set(
        OrganizationMembership.objects.filter(user__in=member_ids).values_list(
            "organization", flat=True
        )
    )
    declared = JudgeConflict.objects.filter(judge=judge, team=team).exists()
    return judge.pk in member_ids or bool(judge_orgs & team_orgs) or declared


@pytest.mark.parametrize("seed", range(6))
def test_assignment_is_conflict_free_covers_k_and_balances_load(seed):
    rng = random.Random(seed)
    event, judges, teams = random_event(rng, seed)
    k = rng.randint(1, 3)
    report = assign_judges(event, k, seed=seed)
    for team in teams:
        assigned = set(
            JudgeAssignment.objects.filter(project=team.project).values_list("judge", flat=True)
        )
        eligible = {j.pk for j in judges if not brute_force_conflict(j, team)}
        assert assigned <= eligible, "never a judge with a conflict"
        assert len(assigned) == min(k, len(eligible)), "k judges whenever k are eligible"
        assert (team.project.pk in report.short) == (len(eligible) < k)
    # Balance: no judge could have taken a project from a judge with 2+ more projects.
    loads = report.loads
    for heavy in judges:
        for light in judges:
            if loads[heavy.pk] - loads[light.pk] >= 2:
                movable = [
                    a
                    for a in JudgeAssignment.objects.filter(event=event, judge=heavy)
                    if not brute_force_conflict(light, a.project.team)
                    and not JudgeAssignment.objects.filter(project=a.project, judge=light).exists()
                ]
                assert not movable, (seed, loads)
    assert assign_judges(event, k, seed=seed).created == 0, "running again adds nothing"


def test_conflicts_by_organization_and_declaration():
    event = hackathon()
    org = Organization.objects.create(slug="acme", name="Acme", kind="company")
    same_org_judge, declared_judge, free_judge = (make_user(n) for n in ("sj", "dj", "fj"))
    for judge in (same_org_judge, declared_judge, free_judge):
        EventRole.objects.create(event=event, user=judge, role="judge")
    (ann,) = registered(event, "ann")
    OrganizationMembership.objects.create(organization=org, user=ann)
    OrganizationMembership.objects.create(organization=org, user=same_org_judge)
    team = team_with_project(event, "Acme team", [ann])
    JudgeConflict.objects.create(event=event, judge=declared_judge, team=team)
    assert conflicts(event) == {
        (same_org_judge.pk, team.project.pk),
        (declared_judge.pk, team.project.pk),
    }
    report = assign_judges(event, 2)
    assert list(JudgeAssignment.objects.values_list("judge", flat=True)) == [free_judge.pk]
    assert report.short == {team.project.pk: 1}


def test_z_scores_and_raw_kept_beside():
    assert z_scores({"a": 50.0}) == {"a": 0.0}
    assert z_scores({"a": 70.0, "b": 70.0}) == {"a": 0.0, "b": 0.0}
    z = z_scores({"a": 40.0, "b": 60.0, "c": 80.0})
    assert (
        z["a"] == pytest.approx(-1.2247449) and z["b"] == 0 and z["c"] == pytest.approx(1.2247449)
    )


def test_tie_rule_raw_mean_then_earlier_final_version_then_project_id():
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)

    def row(pid, z, raw, at):
        return ResultRow(pid, f"p{pid}", "t", "", 2, z, raw, at)

    ordered = rank_rows(
        [
            row(1, 0.5, 70, late),
            row(2, 0.5, 80, late),
            row(3, 0.5, 70, early),
            row(4, 0.9, 10, late),
            row(5, 0.5, 70, early),
        ]
    )
    assert [r.project_id for r in ordered] == [4, 2, 3, 5, 1]
    assert [r.rank for r in ordered] == [1, 2, 3, 4, 5]


def test_a_strict_judge_does_not_sink_the_projects_they_happen_to_score():
    """Judge H scores everything high, judge S everything low; each saw different projects. Raw
    means would rank H's projects first; normalised, each judge's best project comes first."""
    event = hackathon()
    Criterion.objects.create(event=event, name="Idea", weight=1, max_points=10)
    Criterion.objects.create(event=event, name="Speed", weight=3, max_points=10)
    lenient, strict = make_user("lenient"), make_user("strict")
    for judge in (lenient, strict):
        EventRole.objects.create(event=event, user=judge, role="judge")
    teams = [team_with_project(event, f"T{i}", registered(event, f"m{i}")) for i in range(4)]
    marks = {lenient: [(9, 9), (8, 8)], strict: [(4, 4), (2, 2)]}
    crit = list(Criterion.objects.filter(event=event))
    for judge, team_slice in ((lenient, teams[:2]), (strict, teams[2:])):
        for team, (idea, speed) in zip(team_slice, marks[judge], strict=True):
            a = JudgeAssignment.objects.create(event=event, project=team.project, judge=judge)
            record_scores(a, {crit[0].pk: idea, crit[1].pk: speed}, "ok")
    rows = results(event)
    by_team = {r.team: r for r in rows}
    assert by_team["T0"].mean_raw == pytest.approx(90) and by_team["T2"].mean_raw == pytest.approx(
        40
    )
    assert by_team["T0"].mean_z == pytest.approx(1) == by_team["T2"].mean_z
    # T0 and T2 tie on z: the higher raw mean wins.
    assert [r.team for r in rows] == ["T0", "T2", "T1", "T3"]


def test_scoring_page_publishing_and_csv():
    event = hackathon()
    organizer, judge, other_judge = make_user("org"), make_user("judge"), make_user("judge2")
    event.roles.create(user=organizer, role="organizer")
    event.roles.create(user=judge, role="judge")
    event.roles.create(user=other_judge, role="judge")
    (ann,) = registered(event, "ann")
    team = team_with_project(event, "Scored", [ann], title="Tensor cores")
    criterion = Criterion.objects.create(
        event=event, name="Impact", weight=1, max_points=5, guidance="Would you use it?"
    )
    assignment = JudgeAssignment.objects.create(event=event, project=team.project, judge=judge)
    client = Client()
    score_url = reverse("judge-score", args=[assignment.pk])
    client.force_login(other_judge)
    assert client.get(score_url).status_code == 403
    client.force_login(judge)
    page = client.get(score_url).content.decode()
    assert "Tensor cores" in page and "Would you use it?" in page
    client.post(score_url, {f"c{criterion.pk}": "9"})
    assignment.refresh_from_db()
    assert assignment.completed_at is None, "9 of 5 is refused"
    client.post(score_url, {f"c{criterion.pk}": "4", "comment": "Neat"})
    assignment.refresh_from_db()
    assert assignment.completed_at is not None and assignment.comment == "Neat"
    results_url = reverse("event-results", args=[event.slug])
    client.force_login(ann)
    assert client.get(results_url).status_code == 403, "not before they are published"
    client.force_login(organizer)
    assert "Tensor cores" in client.get(results_url).content.decode()
    client.post(reverse("judging-manage", args=[event.slug]), {"action": "publish"})
    client.force_login(ann)
    assert "Tensor cores" in client.get(results_url).content.decode()
    with pytest.raises(JudgingError, match="final"):
        event.refresh_from_db()
        assignment.event = event
        record_scores(assignment, {criterion.pk: 1})
    assert client.get(reverse("event-results-csv", args=[event.slug])).status_code == 403
    client.force_login(organizer)
    body = client.get(reverse("event-results-csv", args=[event.slug])).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["rank", "project", "team"]
    assert rows[1][:3] == ["1", "Tensor cores", "Scored"] and rows[1][6] == "80.00"
