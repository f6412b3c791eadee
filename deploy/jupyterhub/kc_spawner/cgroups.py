"""A control group per server: the profile's memory and CPU limits and a process limit for the
server, its kernels and its terminals together.

cgroup v1 (separate ``memory``, ``cpu`` and ``pids`` hierarchies, as on a machine without
systemd) and v2 are both handled, the groups are made under the hub's own, like the grader's
sandbox slots (grader/sandbox/cgroups.py). The server's launcher joins the group itself before it
drops root, so nothing the student runs can leave it.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
BASE_NAME = "kernelcamp-sessions"
CPU_PERIOD_US = 100_000
# All servers together weigh as much as one busy process per core against the site, the hub
# and the grader (a bare group would weigh as one process): servers start in good time on a
# loaded machine, and a class's kernels still cannot starve the web site's threads.
SESSIONS_WEIGHT_CORES = os.cpu_count() or 1


class CgroupUnavailable(RuntimeError):
    pass


@dataclass
class SessionCgroup:
    version: int
    dirs: list[Path]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found = set()
        for procs in self.procs_files:
            try:
                found.update(int(line) for line in Path(procs).read_text().split())
            except OSError:
                pass
        return found

    def remove(self, grace: float = 3.0) -> None:
        """Kill what is left in the group (a kernel, a `nohup` job) and delete the group."""
        deadline = time.monotonic() + grace
        sig = signal.SIGTERM
        while (pids := self.pids()) and time.monotonic() < deadline + 2:
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
            if time.monotonic() > deadline:
                sig = signal.SIGKILL
        for group in self.dirs:
            try:
                group.rmdir()
            except OSError:
                pass


def _own_groups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    groups = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            groups[name] = path
    return groups


def _is_v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").is_file()


def session_cgroup(
    name: str, mem_bytes: int | None, cpu_limit: float | None, max_processes: int
) -> SessionCgroup:
    """Create (or reuse) the group named `name` with these limits. Raises CgroupUnavailable."""
    if os.geteuid() != 0:
        raise CgroupUnavailable("the hub is not running as root")
    try:
        if _is_v2():
            return _v2(_own_groups().get("", "/"), name, mem_bytes, cpu_limit, max_processes)
        return _v1(_own_groups(), name, mem_bytes, cpu_limit, max_processes)
    except OSError as exc:
        raise CgroupUnavailable(f"{exc.filename or 'cgroup'}: {exc.strerror or exc}") from exc


def existing_cgroup(name: str) -> SessionCgroup | None:
    """The group `session_cgroup(name, ...)` made, if it is there (for clean-up after a restart)."""
    try:
        own = _own_groups()
        if _is_v2():
            dirs = [_v2_base(own.get("", "/")) / name]
        else:
            dirs = [
                CGROUP_ROOT / c / own[c].strip("/") / BASE_NAME / name
                for c in ("memory", "cpu", "pids")
                if c in own
            ]
    except (OSError, KeyError):
        return None
    dirs = [d for d in dirs if d.is_dir()]
    return SessionCgroup(2 if _is_v2() else 1, dirs) if dirs else None


def _v2_base(own: str) -> Path:
    # A v2 group holding processes cannot hand controllers to children: sessions live beside
    # the hub's own group, under its parent.
    parent = CGROUP_ROOT / own.strip("/")
    return parent.parent / BASE_NAME if own.strip("/") else parent / BASE_NAME


def _v2(own: str, name: str, mem: int | None, cpus: float | None, nproc: int) -> SessionCgroup:
    base = _v2_base(own)
    base.mkdir(exist_ok=True)
    available = (base / "cgroup.controllers").read_text().split()
    missing = {"memory", "cpu", "pids"} - set(available)
    if missing:
        raise CgroupUnavailable(f"controllers not delegated here: {', '.join(sorted(missing))}")
    (base / "cgroup.subtree_control").write_text("+memory +cpu +pids")
    (base / "cpu.weight").write_text(str(min(10_000, 100 * SESSIONS_WEIGHT_CORES)))
    group = base / name
    group.mkdir(exist_ok=True)
    (group / "memory.max").write_text(str(mem) if mem else "max")
    if (group / "memory.swap.max").exists():
        (group / "memory.swap.max").write_text("0" if mem else "max")
    quota = f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}" if cpus else f"max {CPU_PERIOD_US}"
    (group / "cpu.max").write_text(quota)
    (group / "pids.max").write_text(str(nproc))
    return SessionCgroup(2, [group])


def _v1(own: dict[str, str], name: str, mem: int | None, cpus: float | None, nproc: int):
    dirs = []
    for controller in ("memory", "cpu", "pids"):
        mount = CGROUP_ROOT / controller
        if controller not in own or not mount.is_dir():
            raise CgroupUnavailable(f"no {controller} controller")
        group = mount / own[controller].strip("/") / BASE_NAME / name
        group.mkdir(parents=True, exist_ok=True)
        dirs.append(group)
    memory, cpu, pids = dirs
    (cpu.parent / "cpu.shares").write_text(str(1024 * SESSIONS_WEIGHT_CORES))
    limit = str(mem) if mem else "-1"
    # The kernel refuses a memory limit above memsw and a memsw below memory: lower memsw last
    # when shrinking, raise it first when growing (memsw exists only with swap accounting).
    memsw = memory / "memory.memsw.limit_in_bytes"
    try:
        (memory / "memory.limit_in_bytes").write_text(limit)
        if memsw.exists():
            memsw.write_text(limit)
    except OSError:
        if memsw.exists():
            memsw.write_text(limit)
        (memory / "memory.limit_in_bytes").write_text(limit)
    (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
    (cpu / "cpu.cfs_quota_us").write_text(str(int(cpus * CPU_PERIOD_US)) if cpus else "-1")
    (pids / "pids.max").write_text(str(nproc))
    return SessionCgroup(1, dirs)
