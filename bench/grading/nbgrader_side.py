"""Grading the corpus with plain nbgrader, as an instructor runs it."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

from common import ASSIGNMENT, COURSE_ID, NB_NAME, OUT, SOURCE, THREAD_ENV, VENV_BIN
from tqdm import tqdm

from grader import Limits  # noqa: E402


# --------------------------------------------------------------------------------- nbgrader
def run_nbgrader(source: bytes, corpus: list[dict], limits: Limits, work: Path) -> dict:
    course = work / "nbgrader-course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "source" / ASSIGNMENT / SOURCE.name).write_bytes(source)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        f"c.Execute.timeout = {int(limits.cell_timeout)}\n"
    )
    env = dict(os.environ)
    env.update(THREAD_ENV)
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"  # kernelspec runs `python`
    nbgrader = [str(VENV_BIN / "nbgrader")]
    gen = subprocess.run(
        nbgrader + ["generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if gen.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{gen.stderr[-3000:]}")
    for sub in corpus:
        path = course / "submitted" / sub["name"] / ASSIGNMENT / SOURCE.name
        path.parent.mkdir(parents=True)
        path.write_bytes(sub["data"])

    log_lines: list[tuple[float, str]] = []
    starts: dict[str, float] = {}
    bar = tqdm(total=len(corpus), desc="nbgrader autograde", unit="sub")
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        nbgrader + ["autograde", ASSIGNMENT],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    marker = "Creating/updating student with ID '"
    for line in proc.stdout:
        now = time.monotonic()
        log_lines.append((now - t0, line.rstrip("\n")))
        if marker in line:
            student = line.split(marker, 1)[1].split("'", 1)[0]
            starts[student] = now
            bar.update(1)
    proc.wait()
    t1 = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    bar.close()
    (OUT / "nbgrader-autograde.log").write_text(
        "\n".join(f"{t:8.2f} {line}" for t, line in log_lines) + "\n"
    )

    # Why nbgrader failed a student, from its part of the log (nbclient's exception message).
    failures: dict[str, str] = {}
    current = None
    for _, line in log_lines:
        if marker in line:
            current = line.split(marker, 1)[1].split("'", 1)[0]
        elif current and (
            "CellTimeoutError:" in line
            or "DeadKernelError:" in line
            or "The message was:" in line
            or "RuntimeError:" in line
        ):
            failures[current] = (failures.get(current, "") + " " + line.strip()).strip()

    # Per-student time: from its first log line to the next student's (or the end).
    order = sorted(starts.items(), key=lambda kv: kv[1])
    latency = {}
    for (student, start), nxt in zip(order, order[1:] + [(None, t1)], strict=True):
        latency[student] = nxt[1] - start

    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict | None] = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db", course_id=COURSE_ID) as gb:
        for sub in corpus:
            try:
                nbsub = gb.find_submission_notebook(NB_NAME, ASSIGNMENT, sub["name"])
            except MissingEntry:
                scores[sub["name"]] = None
                continue
            # A submission that nbgrader's autograde failed on keeps an entry only if it was
            # graded; its autograded folder is removed on failure.
            graded = (course / "autograded" / sub["name"] / ASSIGNMENT / SOURCE.name).exists()
            scores[sub["name"]] = {
                "graded": graded,
                "score": nbsub.score,
                "max_score": nbsub.max_score,
                "cells": {g.name: g.score for g in nbsub.grades},
            }
    failed = [
        line for _, line in log_lines if "ERROR" in line and "error processing" in line.lower()
    ]
    return {
        "wall_s": t1 - t0,
        # nbgrader and every kernel it started (all reaped before it exits).
        "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "returncode": proc.returncode,
        "scores": scores,
        "latency_s": latency,
        "errors": failed,
        "failures": failures,
        "course_dir": str(course),
    }
