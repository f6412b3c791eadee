"""Sandbox slots: a uid of its own for each concurrently running kernel, reserved by an flock.

A uid per kernel rather than one shared sandbox user matters: RLIMIT_NPROC counts per uid, two
kernels under one uid could read, signal or ptrace each other, and "kill every process of this
uid" is what ends a fork bomb whose children left the process group.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

from .base import SandboxError

MAX_SLOTS = 64


def count_user_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


class Slot:
    """A uid reserved for one kernel, by an flock held for the kernel's lifetime."""

    def __init__(self, lock_dir: Path, uid_base: int) -> None:
        lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index in range(MAX_SLOTS):
            fd = os.open(lock_dir / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.fd = fd
            self.index = index
            self.uid = self.gid = uid_base + index
            # A previous kernel on this uid may have left processes (a fork bomb still dying, a
            # grader that crashed). They count against this uid's process limit, so a slot is
            # used only once its uid owns nothing.
            if kill_uid(self.uid):
                return
            os.close(fd)
        raise SandboxError(f"all {MAX_SLOTS} sandbox slots are busy")

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def kill_uid(uid: int, wait: float = 5.0) -> bool:
    """SIGKILL every process owned by ``uid`` (kill(-1) from a child that became that uid), and
    wait until they are gone; False when some outlived ``wait``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):  # a fork bomb may spawn between passes
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + wait
    while count_user_processes(uid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
