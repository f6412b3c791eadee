"""Comparing the two sides: agreement, and the plot."""

from __future__ import annotations

from pathlib import Path


# ------------------------------------------------------------------------------- comparison
def compare(corpus: list[dict], nbg: dict | None, kc: dict) -> list[dict]:
    rows = []
    for sub in corpus:
        name = sub["name"]
        k = kc["results"][name]
        row = {
            "name": name,
            "kind": sub["kind"],
            "detail": sub["detail"],
            "kc_score": k["score"],
            "kc_flags": k["flags"],
        }
        if nbg is None:
            rows.append(row)
            continue
        n = nbg["scores"].get(name)
        if n is None:
            row.update(
                nb_score=None,
                agree=False,
                reason="nbgrader recorded no grade (autograde failed and removed it)",
            )
        elif not n["graded"]:
            why = nbg.get("failures", {}).get(name, "no message in its log")
            row.update(
                nb_score=n["score"],
                agree=False,
                reason="nbgrader's autograde failed on this submission and removed its "
                f"autograded copy (gradebook keeps {n['score']:g}): {why}",
            )
        else:
            row["nb_score"] = n["score"]
            diff = [
                f"{gid}: nbgrader {n['cells'].get(gid)} vs KernelCamp {pts} ({k['status'][gid]})"
                for gid, pts in k["cells"].items()
                if abs((n["cells"].get(gid) or 0.0) - pts) > 1e-9
            ]
            row["agree"] = not diff and abs(n["score"] - k["score"]) < 1e-9
            row["reason"] = "; ".join(diff)
        rows.append(row)
    return rows


def plot(path: Path, nbg: dict | None, kc: dict, corpus: list[dict], workers: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(corpus)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, values = [], []
    if nbg is not None:
        labels.append("nbgrader autograde\n(1 command)")
        values.append(60 * n / nbg["wall_s"])
    labels.append(f"KernelCamp\n{workers} workers")
    values.append(60 * n / kc["wall_s"])
    bars = ax1.bar(labels, values, color=["#999999", "#3b7dd8"][-len(values) :])
    for bar, value in zip(bars, values, strict=True):
        ax1.text(bar.get_x() + bar.get_width() / 2, value, f"{value:.1f}", ha="center", va="bottom")
    ax1.set_ylabel("submissions / minute")
    ax1.set_title(f"Throughput, {n} submissions, 2 cores")

    kinds = sorted({s["kind"] for s in corpus})
    data_kc = [
        [
            kc["results"][s["name"]]["t1"] - kc["results"][s["name"]]["t0"]
            for s in corpus
            if s["kind"] == k
        ]
        for k in kinds
    ]
    pos = range(len(kinds))
    ax2.boxplot(
        data_kc,
        positions=[p + 0.2 for p in pos],
        widths=0.35,
        patch_artist=True,
        boxprops={"facecolor": "#3b7dd8"},
    )
    if nbg is not None:
        data_nb = [
            [nbg["latency_s"].get(s["name"], float("nan")) for s in corpus if s["kind"] == k]
            for k in kinds
        ]
        ax2.boxplot(
            data_nb,
            positions=[p - 0.2 for p in pos],
            widths=0.35,
            patch_artist=True,
            boxprops={"facecolor": "#999999"},
        )
    ax2.set_xticks(list(pos), kinds)
    ax2.set_ylabel("seconds per submission")
    ax2.set_title("Per-submission latency (grey nbgrader, blue KernelCamp)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
