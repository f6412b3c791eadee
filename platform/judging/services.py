"""Judging writes: conflict-free balanced assignment, scoring, publishing results."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrganizationMembership
from audit import record
from events.models import Event, EventRole
from judging.models import Criterion, JudgeAssignment, JudgeConflict, Score
from projects.models import Project
from teams.models import TeamMembership


class JudgingError(ValueError):
    pass


def conflicts(event: Event) -> set[tuple[int, int]]:
    """(judge id, project id) pairs that must never meet: the judge is in the team, shares an
    organization with a team member, or declared a conflict with the team."""
    judges = set(EventRole.objects.filter(event=event, role="judge").values_list("user", flat=True))
    orgs: dict[int, set[int]] = {}
    for user_id, org_id in OrganizationMembership.objects.values_list("user", "organization"):
        orgs.setdefault(user_id, set()).add(org_id)
    projects = dict(Project.objects.filter(event=event).values_list("team", "pk"))
    members: dict[int, set[int]] = {}
    for team_id, user_id in TeamMembership.objects.filter(event=event).values_list("team", "user"):
        members.setdefault(team_id, set()).add(user_id)
    pairs: set[tuple[int, int]] = set()
    for team_id, project_id in projects.items():
        team_users = members.get(team_id, set())
        team_orgs = set().union(*(orgs.get(u, set()) for u in team_users))
        for judge in judges:
            if judge in team_users or orgs.get(judge, set()) & team_orgs:
                pairs.add((judge, project_id))
    for judge, team_id in JudgeConflict.objects.filter(event=event).values_list("judge", "team"):
        if team_id in projects:
            pairs.add((judge, projects[team_id]))
    return pairs


@dataclass
class AssignmentReport:
    created: int = 0
    loads: dict[int, int] = field(default_factory=dict)
    short: dict[int, int] = field(default_factory=dict)  # project id -> judges still missing


@transaction.atomic
def assign_judges(event: Event, k: int | None = None, *, seed: int = 0) -> AssignmentReport:
    """Give every submitted project at least `k` judges, never one with a conflict.

    Greedy and balanced: repeatedly take the project with the fewest judges and give it the
    eligible judge with the lightest load (ties by a seeded shuffle, so runs are repeatable), then
    move new assignments from heavy to light judges while any judge has two more than another
    who could take one of theirs.
    Existing assignments are kept, so running it again after new projects arrive only adds.
    """
    k = k if k is not None else event.judges_per_project
    rng = random.Random(seed)
    judges = list(
        EventRole.objects.filter(event=event, role="judge").values_list("user", flat=True)
    )
    rng.shuffle(judges)
    tiebreak = {judge: i for i, judge in enumerate(judges)}
    projects = list(
        Project.objects.filter(event=event, versions__isnull=False)
        .distinct()
        .values_list("pk", flat=True)
    )
    blocked = conflicts(event)
    assigned: dict[int, set[int]] = {p: set() for p in projects}
    loads = {judge: 0 for judge in judges}
    for project_id, judge_id in JudgeAssignment.objects.filter(event=event).values_list(
        "project", "judge"
    ):
        if project_id in assigned:
            assigned[project_id].add(judge_id)
        if judge_id in loads:
            loads[judge_id] += 1
    report = AssignmentReport()
    open_projects = {p for p in projects if len(assigned[p]) < k}
    new_pairs: set[tuple[int, int]] = set()
    while open_projects:
        project_id = min(open_projects, key=lambda p: (len(assigned[p]), p))
        eligible = [
            j for j in judges if j not in assigned[project_id] and (j, project_id) not in blocked
        ]
        if not eligible:
            report.short[project_id] = k - len(assigned[project_id])
            open_projects.discard(project_id)
            continue
        judge = min(eligible, key=lambda j: (loads[j], tiebreak[j]))
        new_pairs.add((project_id, judge))
        assigned[project_id].add(judge)
        loads[judge] += 1
        if len(assigned[project_id]) >= k:
            open_projects.discard(project_id)
    _rebalance(new_pairs, assigned, loads, blocked, tiebreak)
    JudgeAssignment.objects.bulk_create(
        JudgeAssignment(event=event, project_id=p, judge_id=j) for p, j in sorted(new_pairs)
    )
    report.created = len(new_pairs)
    report.loads = loads
    return report


def _rebalance(new_pairs, assigned, loads, blocked, tiebreak) -> None:
    """Conflicts can leave the greedy pass uneven. Move a new assignment from a judge to one with
    at least two fewer projects who may take it, until no such move exists; each move lowers the
    sum of squared loads, so this ends."""
    moved = True
    while moved:
        moved = False
        for project_id, heavy in sorted(new_pairs, key=lambda pair: -loads[pair[1]]):
            lighter = [
                j
                for j in loads
                if loads[heavy] - loads[j] >= 2
                and j not in assigned[project_id]
                and (j, project_id) not in blocked
            ]
            if not lighter:
                continue
            light = min(lighter, key=lambda j: (loads[j], tiebreak[j]))
            new_pairs.remove((project_id, heavy))
            new_pairs.add((project_id, light))
            assigned[project_id].discard(heavy)
            assigned[project_id].add(light)
            loads[heavy] -= 1
            loads[light] += 1
            moved = True
            break


@transaction.atomic
def record_scores(
    assignment: JudgeAssignment, points: dict[int, int], comment: str = ""
) -> JudgeAssignment:
    """Save a judge's points per criterion (criterion id -> points) and their comment."""
    if assignment.event.results_published_at is not None:
        raise JudgingError(_("Results are published; scores are final."))
    criteria = list(Criterion.objects.filter(event=assignment.event))
    if not criteria:
        raise JudgingError(_("This event has no rubric yet."))
    before = {
        str(s.criterion_id): s.points for s in Score.objects.filter(assignment=assignment)
    } or None
    for criterion in criteria:
        value = points.get(criterion.pk)
        if value is None:
            raise JudgingError(_("Score every criterion."))
        if not 0 <= value <= criterion.max_points:
            raise JudgingError(
                _("%(name)s takes 0 to %(max)s points.")
                % {"name": criterion.name, "max": criterion.max_points}
            )
        Score.objects.update_or_create(
            assignment=assignment, criterion=criterion, defaults={"points": value}
        )
    assignment.comment = comment.strip()
    assignment.completed_at = timezone.now()
    assignment.save(update_fields=["comment", "completed_at"])
    after = {str(c.pk): points[c.pk] for c in criteria}
    record(assignment.judge, "judging.score", assignment.project, before, after)
    return assignment


def publish_results(event: Event, by=None) -> None:
    Event.objects.filter(pk=event.pk).update(results_published_at=timezone.now())
    record(by, "judging.results_published", event, None, None)


def unpublish_results(event: Event, by=None) -> None:
    Event.objects.filter(pk=event.pk).update(results_published_at=None)
    record(by, "judging.results_unpublished", event, None, None)
