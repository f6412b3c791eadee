"""The sandbox's own directory, on a tmpfs of its own when the grader runs as root.

What the host keeps for a kernel while it runs (``run/`` with its connection file and the
sockets the host makes for it, the kernel's stderr log, its exit status, the mount points of its
scratch, the fork server's home) then lies in memory, never on the real disk: nothing of a
submission reaches the disk even if the grader is killed before it closes the kernel, and a
reboot clears what such a grader left. Each kernel's directory is removed when it closes.

The tmpfs is mounted once per machine (under an flock, so concurrent workers mount it once) and
left mounted for the next worker, as /run is.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
from pathlib import Path

#: The default base directory as root: not under /tmp or /var/tmp, which are each kernel's own
#: tmpfs in its view.
DEFAULT_BASE = Path("/run/kernelcamp-sandbox")
_LOCK = Path("/var/tmp/kernelcamp-sandbox/.base.lock")
_MS_NOSUID, _MS_NODEV = 2, 4


def filesystem_of(path: str | Path) -> str:
    """The type of the filesystem ``path`` lies on ("tmpfs", "ext4", ...), from mountinfo."""
    target = os.path.realpath(path)
    best, kind = "", ""
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # \040 for a space, etc.
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            # Later lines are mounted on top of earlier ones at the same point.
            if inside and len(point) >= len(best):
                best, kind = point, fields[fields.index("-") + 1]
    return kind


def _is_tmpfs_mount(path: Path) -> bool:
    return os.path.ismount(path) and filesystem_of(path) == "tmpfs"


def ensure_tmpfs(path: Path) -> bool:
    """Make ``path`` a tmpfs mount (mode 0711) unless it already is one; False when it cannot
    be mounted (no CAP_SYS_ADMIN), and the directory stays on the disk it is on."""
    path.mkdir(parents=True, exist_ok=True)
    _LOCK.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_tmpfs_mount(path):
            return True
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.mount(
            b"tmpfs", str(path).encode(), b"tmpfs", ctypes.c_ulong(_MS_NOSUID | _MS_NODEV),
            b"mode=0711",
        )  # fmt: skip
        return rc == 0
