"""A kernel's process tree, read from /proc outside the kernel: its processes, threads, CPU time
and time spent running or waiting for a CPU. Nothing the submission runs can change these
readings but by ending processes or threads (it cannot reach the grader's /proc)."""

from __future__ import annotations

import glob
import os
from pathlib import Path


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (over all its threads)."""
    found = []
    for listing in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found.extend(int(c) for c in Path(listing).read_text().split())
        except (OSError, ValueError):
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the supervisor, the kernel, what the kernel started:
    orphans stay in the tree, reparented to the kernel as PID 1 of its namespace)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current not in found:
            found.append(current)
            pending.extend(children(current))
    return found


def tree_threads(pid: int) -> int | None:
    """Threads of every process in the tree; None when ``pid`` itself is gone."""
    total = 0
    for current in tree(pid):
        try:
            total += len(os.listdir(f"/proc/{current}/task"))
        except OSError:
            if current == pid:
                return None
    return total


def tree_busy_seconds(pid: int) -> float | None:
    """Seconds the tree's threads have spent on a CPU or runnable and waiting for one
    (/proc/PID/task/*/schedstat): on a busy machine a computing kernel keeps counting, a
    sleeping one does not. None when ``pid`` itself is gone."""
    total = 0
    for current in tree(pid):
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            if current == pid:
                return None
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/schedstat") as fh:
                    on_cpu, waiting = fh.read().split()[:2]
                total += int(on_cpu) + int(waiting)
            except (OSError, ValueError):
                continue
    return total / 1e9


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by the tree's processes, and by the children they have reaped;
    None when ``pid`` itself is gone."""
    import psutil

    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        descendants = root.children(recursive=True)
    except psutil.Error:
        return None
    for child in descendants:
        try:
            child_times = child.cpu_times()
        except psutil.Error:
            continue
        total += child_times.user + child_times.system
    return total


def kill_descendants(pid: int) -> None:
    """SIGKILL every descendant of ``pid`` (the sandbox without a uid of its own)."""
    try:
        import psutil

        descendants = psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - the process may already be gone
        return
    for child in descendants:
        try:
            child.kill()
        except Exception:  # noqa: BLE001
            pass
