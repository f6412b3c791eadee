"""Judging reads: progress, and results normalised per judge.

Each complete assignment gets a raw score: the weighted mean of its criteria, each as a fraction of
its highest score, times 100. Judges differ in strictness, so every raw score is also turned into
a z-score against that judge's own scores (mean 0, population standard deviation 1; a judge whose
scores are all equal, or who scored one project, gives 0). A project's result is the mean of its
z-scores, with the mean raw score kept beside it.

Ties (equal mean z-score, to 1e-9) are broken, in order, by: the higher mean raw score, then the
earlier submission of the project's final version, then the lower project id.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from events.models import Event
from judging.models import Criterion, JudgeAssignment, Score

TIE_RULE = (
    "higher mean z-score; then higher mean raw score; then the earlier final version; "
    "then the lower project id"
)


def judging_progress(event: Event) -> dict:
    assignments = JudgeAssignment.objects.filter(event=event)
    total = assignments.count()
    done = assignments.filter(completed_at__isnull=False).count()
    return {"assigned": total, "scored": done, "percent": round(100 * done / total) if total else 0}


def raw_score(points: dict[int, int], criteria: list[Criterion]) -> float:
    weights = sum(c.weight for c in criteria)
    return 100 * sum(c.weight * points[c.pk] / c.max_points for c in criteria) / weights


def z_scores(raw_by_item: dict) -> dict:
    """z-score of each value against all values given (population standard deviation)."""
    values = list(raw_by_item.values())
    if len(values) < 2:
        return {key: 0.0 for key in raw_by_item}
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if sd == 0:
        return {key: 0.0 for key in raw_by_item}
    return {key: (value - mean) / sd for key, value in raw_by_item.items()}


@dataclass
class ResultRow:
    project_id: int
    title: str
    team: str
    track: str
    judges: int
    mean_z: float
    mean_raw: float
    final_at: datetime | None
    rank: int = 0
    per_judge: list[tuple[str, float, float]] = field(default_factory=list)


def rank_rows(rows: list[ResultRow]) -> list[ResultRow]:
    """Order by the stated tie rule and number the places 1, 2, 3..."""
    far_future = datetime.max.replace(tzinfo=None)

    def key(row: ResultRow):
        final = row.final_at.replace(tzinfo=None) if row.final_at else far_future
        return (-round(row.mean_z, 9), -round(row.mean_raw, 9), final, row.project_id)

    ordered = sorted(rows, key=key)
    for place, row in enumerate(ordered, start=1):
        row.rank = place
    return ordered


def results(event: Event) -> list[ResultRow]:
    criteria = list(Criterion.objects.filter(event=event))
    if not criteria:
        return []
    assignments = list(
        JudgeAssignment.objects.filter(event=event, completed_at__isnull=False).select_related(
            "judge", "project__team"
        )
    )
    points: dict[int, dict[int, int]] = defaultdict(dict)
    for a_id, c_id, value in Score.objects.filter(assignment__in=assignments).values_list(
        "assignment", "criterion", "points"
    ):
        points[a_id][c_id] = value
    raw_by_judge: dict[int, dict[int, float]] = defaultdict(dict)
    by_id = {}
    for a in assignments:
        if all(c.pk in points[a.pk] for c in criteria):
            raw_by_judge[a.judge_id][a.pk] = raw_score(points[a.pk], criteria)
            by_id[a.pk] = a
    per_project: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    for _judge, raws in raw_by_judge.items():
        for a_id, z in z_scores(raws).items():
            a = by_id[a_id]
            per_project[a.project_id].append((str(a.judge), raws[a_id], z))
    rows = []
    for project_id, marks in per_project.items():
        project = next(a.project for a in by_id.values() if a.project_id == project_id)
        final = project.versions.select_related("track").first()
        rows.append(
            ResultRow(
                project_id=project_id,
                title=final.title if final else str(project.team),
                team=str(project.team),
                track=str(final.track) if final and final.track else "",
                judges=len(marks),
                mean_z=sum(z for _n, _r, z in marks) / len(marks),
                mean_raw=sum(r for _n, r, _z in marks) / len(marks),
                final_at=final.submitted_at if final else None,
                per_judge=sorted(marks),
            )
        )
    return rank_rows(rows)


def assignments_of(event: Event, judge):
    return (
        JudgeAssignment.objects.filter(event=event, judge=judge)
        .select_related("project__team")
        .order_by("completed_at", "project_id")
    )
