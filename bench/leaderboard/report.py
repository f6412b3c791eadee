"""What bench/leaderboard/run.py prints and draws for its phases: a phase's summary (all requests
and each path) and the latency-against-rate plot."""

from __future__ import annotations

from pathlib import Path

from load import Phase


def describe(label: str, phase: Phase, paths: list[str]) -> dict:
    whole = phase.summary()
    print(
        f"{label}: {whole['requests']} requests at {phase.rate:.0f}/s over {phase.duration:.0f} s: "
        f"p50 {whole['p50_ms']:.1f} ms, p95 {whole['p95_ms']:.1f} ms, p99 {whole['p99_ms']:.1f} "
        f"ms, max {whole['max_ms']:.0f} ms, errors {whole['errors']} "
        f"(client lag p95 {whole['client_lag_p95_ms']:.1f} ms, client CPU {phase.client_cpu:.1f} s)"
    )
    print(f"    server CPU {phase.server_cpu_ms:.1f} ms per request (an overloaded phase leaves "
          "work to the next one)")  # fmt: skip
    for path in paths:
        s = phase.summary(path)
        print(f"    {path:<60} p50 {s['p50_ms']:6.1f}  p95 {s['p95_ms']:6.1f}  "
              f"p99 {s['p99_ms']:6.1f} ms  errors {s['errors']}")  # fmt: skip
    for sample in phase.errors()[:5]:
        print(f"    error: {sample.path} HTTP {sample.status} {sample.error}")
    return {
        "all": whole,
        **{p: phase.summary(p) for p in paths},
        "client_cpu_s": phase.client_cpu,
        "server_cpu_ms_per_request": phase.server_cpu_ms,
    }


def plot(out: Path, site: list[Phase], naive: list[Phase], slo: float, goal: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for phases, label, colour in ((site, "materialized board", "C0"), (naive, "naive", "C3")):
        phases = sorted(phases, key=lambda p: p.rate)
        rates = [p.rate for p in phases]
        for q, style in (("p50_ms", ":"), ("p95_ms", "-"), ("p99_ms", "--")):
            values = [p.summary()[q] for p in phases]
            ax.plot(rates, values, style, color=colour, marker="o", ms=3,
                    label=f"{label} {q[:3]}")  # fmt: skip
    ax.axhline(slo, color="grey", lw=0.8)
    ax.axhline(goal, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("arrival rate (requests/s, open loop)")
    ax.set_ylabel("latency from due time (ms)")
    ax.set_yscale("log")
    ax.set_title("Leaderboard pages: board, board JSON, event page in turn")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
