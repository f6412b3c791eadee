"""Plots for instructors, drawn server-side as SVG (no JavaScript charting, nothing from a CDN)."""

from __future__ import annotations

import io
import warnings

import matplotlib
from django.utils.translation import gettext as _

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Text stays text in the SVG, drawn by the reader's browser: the server's fonts have no Hangul
# (Korean titles came out as boxes), the browser's do, and the labels stay searchable.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["font.family"] = ["DejaVu Sans", "sans-serif"]


def _svg(fig) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():  # Hangul is measured without a glyph, and drawn by the browser
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def score_distribution_svg(
    distribution: dict[str, list[float]], maxima: dict[str, float], title: str
) -> str:
    slugs = list(distribution)
    fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(slugs)), 3))
    data = [
        [100 * s / maxima[slug] for s in distribution[slug]] or [float("nan")] for slug in slugs
    ]
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(range(1, len(slugs) + 1), slugs, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(_("Percent of points"))
    ax.set_ylim(-5, 105)
    ax.set_title(title, fontsize=10)
    return _svg(fig)


def failed_tests_svg(rows: list[tuple[str, str, int, int]], title: str) -> str:
    labels = [f"{slug} · {cell}" for slug, cell, _n, _a in rows][::-1]
    rates = [100 * n / a for _s, _c, n, a in rows][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(rows) + 1))
    ax.barh(labels, rates, color="#a33")
    ax.set_xlabel(_("Percent of students failing"))
    ax.set_xlim(0, 100)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(title, fontsize=10)
    return _svg(fig)
