"""Usage plot, drawn server-side as SVG."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from grading.plots import _svg, plt


def usage_svg(rows: list[tuple[date, str, float]], title: str, ylabel: str) -> str:
    """Stacked bars of GPU-hours per day, one colour per profile."""
    days = sorted({day for day, _p, _h in rows})
    profiles = sorted({p for _d, p, _h in rows})
    table: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for day, profile, hours in rows:
        table[profile][day] += hours
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(days) + 2), 3))
    bottom = [0.0] * len(days)
    labels = [d.isoformat() for d in days]
    for profile in profiles:
        heights = [table[profile][d] for d in days]
        ax.bar(labels, heights, bottom=bottom, label=profile)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    if profiles:
        ax.legend(fontsize=8)
    return _svg(fig)
