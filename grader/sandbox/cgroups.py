"""Control groups per kernel: one memory limit and one process limit for all of a kernel's
processes together, in a group made for that kernel and removed after it.

Resource limits are per process: a submission that forks twenty children, each below
``RLIMIT_AS``, could still take the machine's memory. A cgroup counts them all, and the kernel's
OOM killer ends the group's processes, not the grader or the web site.

Both hierarchies are handled: cgroup v2 (``memory.max``, ``pids.max``) and the v1 ``memory``
and ``pids`` controllers. The slot's groups are made under the grader's own groups, so a grader
in a container stays within the container's limits. Where no writable controller exists (not
root, a read-only /sys/fs/cgroup) the kernel runs without one and says so in its notes.

A group per kernel, not per slot: what a kernel leaves charged to its group (page cache, a tmpfs
or shared memory still being torn down) must never count against the next submission, so each
kernel starts from an empty group and its group is removed when it closes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


class CgroupUnavailable(RuntimeError):
    pass


def _own_groups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    groups = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            groups[name] = path
    return groups


@dataclass
class KernelCgroup:
    """The groups of one kernel: where a kernel's pid goes, and how to tell it ran out of memory."""

    version: int
    dirs: list[Path]
    memory_dir: Path
    oom_kills_before: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_kills(self) -> int:
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def ran_out_of_memory(self) -> bool:
        return self.oom_kills() > self.oom_kills_before

    def memory_usage(self) -> int:
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        try:
            return int((self.memory_dir / name).read_text())
        except (OSError, ValueError):
            return 0

    def thread_count(self) -> int | None:
        """Tasks (threads) in the group, counted by the kernel (pids controller)."""
        pids_dir = self.dirs[-1]
        try:
            return int((pids_dir / "pids.current").read_text())
        except (OSError, ValueError):
            return None

    def remove(self, wait: float = 2.0) -> bool:
        """Remove the groups once their processes are gone; charges left go to the parent."""
        deadline = time.monotonic() + wait
        for directory in self.dirs:
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.02)
        return True


def kernel_cgroup(name: str, memory_bytes: int, max_processes: int) -> KernelCgroup:
    """Create the kernel's groups ``name`` with these limits. Raises CgroupUnavailable."""
    if os.geteuid() != 0:
        raise CgroupUnavailable("not running as root")
    try:
        own = _own_groups()
        if (CGROUP_ROOT / "cgroup.controllers").is_file():
            group = _v2(own.get("", "/"), name, memory_bytes, max_processes)
        else:
            group = _v1(own, name, memory_bytes, max_processes)
    except OSError as exc:
        raise CgroupUnavailable(f"{exc.filename or 'cgroup'}: {exc.strerror or exc}") from exc
    group.oom_kills_before = group.oom_kills()
    return group


#: A kernel joins its group within moments of its creation; an empty group older than this was
#: left by a grader that died before closing its kernel.
STALE_AFTER_S = 300


def _sweep(base: Path) -> None:
    """Remove groups that dead graders left behind (rmdir refuses a group that has tasks)."""
    now = time.time()
    for group in base.glob("k-*"):
        try:
            if now - group.stat().st_mtime > STALE_AFTER_S:
                group.rmdir()
        except OSError:
            continue


def _v2(own: str, name: str, memory_bytes: int, max_processes: int) -> KernelCgroup:
    # A v2 group with processes cannot hand controllers to children, so the slots live beside
    # the grader's own group, under its parent.
    parent = CGROUP_ROOT / own.strip("/")
    base = parent.parent / "kernelcamp-sandbox" if own.strip("/") else parent / "kernelcamp"
    base.mkdir(exist_ok=True)
    available = (base / "cgroup.controllers").read_text().split()
    if "memory" not in available or "pids" not in available:
        raise CgroupUnavailable("the memory and pids controllers are not delegated here")
    (base / "cgroup.subtree_control").write_text("+memory +pids")
    _sweep(base)
    slot = base / name
    slot.mkdir()
    (slot / "memory.max").write_text(str(memory_bytes))
    if (slot / "memory.swap.max").exists():
        (slot / "memory.swap.max").write_text("0")
    (slot / "pids.max").write_text(str(max_processes))
    return KernelCgroup(2, [slot], slot)


def _v1(own: dict[str, str], name: str, memory_bytes: int, max_processes: int) -> KernelCgroup:
    dirs = []
    for controller in ("memory", "pids"):
        mount = CGROUP_ROOT / controller
        if controller not in own or not mount.is_dir():
            raise CgroupUnavailable(f"no {controller} controller")
        slot = mount / own[controller].strip("/") / "kernelcamp-sandbox" / name
        slot.parent.mkdir(parents=True, exist_ok=True)
        _sweep(slot.parent)
        slot.mkdir()
        dirs.append(slot)
    memory, pids = dirs
    # Lower the swap-inclusive limit last when shrinking and first when growing: the kernel
    # refuses a memory limit above memsw, and a memsw below memory.
    memsw = memory / "memory.memsw.limit_in_bytes"
    try:
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if memsw.exists():
            memsw.write_text(str(memory_bytes))
    except OSError:
        if memsw.exists():
            memsw.write_text(str(memory_bytes))
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
    (pids / "pids.max").write_text(str(max_processes))
    return KernelCgroup(1, dirs, memory)
