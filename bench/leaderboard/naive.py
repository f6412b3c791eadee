"""The same board computed the naive way: one aggregate over all of a challenge's entries on
every request, nothing materialized, nothing cached (what EvalAI's leaderboard endpoint does).

Same rules as `contests.boards.refresh_rows` for a challenge whose private board uses the best
entry: a competitor's score is the best of its ranked entries, its entry count the entries not
lost to a platform error; ties (none in the bench's random scores) go to the lower competitor id
here instead of the earlier hand-in. Only the live view (the bench's challenge is not frozen).
"""

from __future__ import annotations

import json

from contests.boards import Row
from contests.models import BoardRow, Challenge, Entry
from django.db.models import Count, Max, Min, Q
from django.template.loader import render_to_string
from django.utils.translation import gettext

from teams.models import Team


def naive_rows(challenge: Challenge, board: str) -> list[Row]:
    field = "public_score" if board == BoardRow.Board.PUBLIC else "private_score"
    best = Max if challenge.higher_is_better else Min
    groups = list(
        Entry.objects.filter(challenge=challenge)
        .values("competitor")
        .annotate(
            best=best(field, filter=Q(ranked=True)),
            entries=Count("pk", filter=~Q(status=Entry.Status.ERROR)),
        )
        .order_by()
    )
    team_ids = [int(g["competitor"][1:]) for g in groups if g["competitor"].startswith("t")]
    names = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
    sign = -1 if challenge.higher_is_better else 1
    groups.sort(key=lambda g: (g["best"] is None, sign * (g["best"] or 0), g["competitor"]))
    out, rank = [], 0
    for g in groups:
        competitor, baseline = g["competitor"], g["competitor"] == "baseline"
        if baseline:
            name = gettext("Baseline")
        elif competitor.startswith("t"):
            name = names.get(int(competitor[1:]), competitor)
        else:
            name = competitor
        ranked = g["best"] is not None and not baseline
        rank += ranked
        out.append(
            Row(rank if ranked else None, name, competitor, g["best"], g["entries"], None, baseline)
        )
    return out


def naive_html(challenge: Challenge, board: str, live: bool) -> str:
    return render_to_string(
        "contests/_board_table.html",
        {"challenge": challenge, "rows": naive_rows(challenge, board), "board": board},
    )


def naive_json(challenge: Challenge, board: str, live: bool) -> str:
    return json.dumps(
        {
            "challenge": challenge.slug,
            "board": board,
            "version": challenge.board_version,
            "frozen": not live,
            "ranked_by": challenge.ranked_by,
            "higher_is_better": challenge.higher_is_better,
            "rows": [
                {
                    "rank": r.rank,
                    "name": r.name,
                    "score": r.score,
                    "entries": r.entries,
                    "baseline": r.is_baseline,
                }
                for r in naive_rows(challenge, board)
            ],
        }
    )
