"""ProcessSandbox: each kernel is a local process in namespaces of its own, jailed by _launcher.py.

Isolation, when the grader runs as root (the platform's worker container):
- a filesystem view made by bubblewrap (``bwrap``): /usr, a few files of /etc, the virtualenv and
  the sandbox's own directory, read-only but that directory; nothing of the repository, the
  site's database or other users' homes; no network;
- per kernel: its own mount, IPC, PID, network and UTS namespaces, a fresh /proc, a size-capped
  tmpfs on every writable place, its own memory and pids control group (removed afterwards);
- a uid of its own per concurrently running kernel (uid_base + slot), so RLIMIT_NPROC binds,
  file permissions apply, and "kill every process of that uid" ends anything that escaped;
- rlimits (address space, CPU, processes, file size, open files, core dumps off);
- an allow-listed environment.

As a non-root user the kernel runs as that user: limits still apply (RLIMIT_NPROC counts all the
user's processes, so it is raised by the number already running), a user+network+IPC namespace
is used when the kernel allows unprivileged ones, and the directories are protected by mode 0700.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from ..device import Device
from ..limits import Limits
from . import proctree
from ._launcher import KernelSpec, ServerSpec
from .base import KernelHandle, Sandbox, SandboxError, register
from .basedir import DEFAULT_BASE, ensure_tmpfs
from .cgroups import CgroupUnavailable, KernelCgroup, kernel_cgroup
from .fork_server import ForkedProcess, ForkServer
from .proctree import kill_descendants, tree_busy_seconds, tree_cpu_seconds, tree_threads
from .slots import Slot, kill_uid
from .view import (
    LAUNCHER,
    SCRATCH,
    bwrap_view,
    kernel_environment,
    kernel_rlimits,
    readonly_paths,
    sandbox_python,
)

#: One registry of sandbox uids per machine, whatever a sandbox's base directory: two graders
#: must never hand the same uid to two kernels at once.
SLOT_LOCKS = Path("/var/tmp/kernelcamp-sandbox/.slots")
#: The kernel's ipc/ tmpfs: its sockets only.
IPC_DIR_BYTES = 1024**2


class ProcessKernel(KernelHandle):
    def __init__(
        self,
        proc: subprocess.Popen | ForkedProcess,
        client: BlockingKernelClient,
        root: Path,
        log_path: Path,
        slot: Slot | None,
        notes: list[str],
        cgroup: KernelCgroup | None = None,
    ) -> None:
        self.cgroup = cgroup
        self.proc = proc
        self.client = client
        self.root = root
        self.log_path = log_path
        self.slot = slot
        self.notes = notes
        self._closed = False
        self._released = False
        #: Seconds spent in each phase of the start (StartClock), set by the sandbox.
        self.start_phases: dict[str, float] = {}
        # The process to signal: the launcher's supervisor. Started by exec under bwrap, that is
        # bwrap's child (bwrap itself passes no signals on).
        self.signal_pid = proc.pid

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    def interrupt(self) -> None:
        if self.is_alive():
            try:
                os.kill(self.signal_pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def set_low_priority(self, low: bool) -> None:
        # Every process of the slot's uid (what the kernel started too); without a slot, the
        # kernel's process group. Raising the priority back needs root, so without it a kernel
        # stays low until it ends.
        which, who = (os.PRIO_USER, self.slot.uid) if self.slot else (os.PRIO_PGRP, self.proc.pid)
        try:
            os.setpriority(which, who, 19 if low else 0)
        except OSError:
            pass

    def count_threads(self) -> int | None:
        """Threads of every process the kernel started, counted from outside: the kernel's
        control group, else /proc/<pid>/task over its process tree. Nothing the submission runs
        can change this count but by ending threads."""
        if self.cgroup is not None:
            count = self.cgroup.thread_count()
            if count is not None:
                return count
        return tree_threads(self.proc.pid)

    def busy_seconds(self) -> float | None:
        """Seconds all the kernel's threads have spent on a CPU or runnable waiting for one,
        over its whole process tree (the process the grader knows is only its supervisor)."""
        return tree_busy_seconds(self.proc.pid)

    def cpu_seconds(self) -> float | None:
        return tree_cpu_seconds(self.proc.pid)

    def kill(self) -> None:
        if self._released:
            return  # the slot's uid may already belong to the next kernel
        if self.slot is not None:
            # The kernel first (every process of its uid; as PID 1 of its namespace it takes the
            # rest with it), so that the supervisor reaps it: killed together, the kernel would
            # be left to the machine's init, which in a container may never reap it.
            kill_uid(self.slot.uid)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.slot is None:
            kill_descendants(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def exit_reason(self) -> str | None:
        code = self.proc.poll()
        if code is None:
            return None
        if self.cgroup is not None and self.cgroup.ran_out_of_memory():
            return "its processes together used all the memory a submission may use"
        if code < 0:
            name = signal.Signals(-code).name
            hint = {"SIGKILL": "killed", "SIGXCPU": "CPU time limit reached"}.get(name, "")
            return f"kernel ended by {name}" + (f" ({hint})" if hint else "")
        return f"kernel exited with status {code}"

    def log_tail(self, limit: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.client.stop_channels()
            self.client.context.destroy(linger=0)
        except Exception:  # noqa: BLE001 - closing must not fail the grade
            pass
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.slot is not None:
            self.slot.release()
        self._released = True


@register
class ProcessSandbox(Sandbox):
    """Options (from the site's KC_GRADING_SANDBOX_OPTIONS or the CLI): ``base_dir``,
    ``uid_base`` (first sandbox uid, 64000), ``visible_paths`` (more read-only paths in the
    view), ``require_netns``, ``fork_server`` (False: a fresh interpreter per kernel)."""

    name = "process"

    def __init__(
        self,
        limits: Limits,
        device: Device,
        *,
        base_dir: str | Path | None = None,
        uid_base: int = 64000,
        visible_paths: list[str] | None = None,
        require_netns: bool = False,
        fork_server: bool = True,
    ) -> None:
        super().__init__(limits, device)
        self.root_mode = os.geteuid() == 0
        if base_dir is None:
            base_dir = (
                DEFAULT_BASE
                if self.root_mode
                else Path(tempfile.gettempdir()) / f"kernelcamp-sandbox-{os.getuid()}"
            )
        self.base_dir = Path(base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        # As root, on a tmpfs: nothing the host keeps for a kernel lies on the real disk.
        self.base_on_tmpfs = ensure_tmpfs(self.base_dir) if self.root_mode else False
        # Traversable, not listable: kernels reach their own directory and nothing else.
        os.chmod(self.base_dir, 0o711 if self.root_mode else 0o700)
        self.uid_base = uid_base
        self.visible_paths = list(visible_paths or [])
        self.require_netns = require_netns
        # Fixed for the sandbox's life: which interpreter kernels run, and with which packages.
        self.python, self.site_dirs = sandbox_python(self.root_mode)
        self.visible = readonly_paths(self.python, self.visible_paths)
        self.view = bwrap_view(device, self.base_dir, self.visible) if self.root_mode else []
        self._fork_server: ForkServer | None = None
        if fork_server:
            home = self.base_dir / ".fork-server"
            home.mkdir(mode=0o700, exist_ok=True)
            spec = ServerSpec(
                env=kernel_environment(self.device, home),
                preload=list(self.limits.preload),
                site_dirs=self.site_dirs,
            )
            self._fork_server = ForkServer(
                [*self.view, *self._launcher_argv()], spec, home / "server.log"
            )

    def describe(self) -> dict:
        return {
            "sandbox": self.name,
            "privilege": "per-kernel uid" if self.root_mode else "same user",
            "start": "fork server" if self._fork_server else "exec",
            "view": "bwrap" if self.view else "host",
            "base_dir": f"{self.base_dir} ({'tmpfs' if self.base_on_tmpfs else 'disk'})",
            "visible_paths": self.visible,
        }

    def _launcher_argv(self) -> list[str]:
        flags = ["-I", "-S"] if self.site_dirs else ["-I"]
        return [self.python, *flags, str(LAUNCHER)]

    def start_kernel(self) -> ProcessKernel:
        clock = StartClock()
        slot = Slot(SLOT_LOCKS, self.uid_base) if self.root_mode else None
        clock.mark("slot")
        root = Path(tempfile.mkdtemp(prefix="k", dir=self.base_dir))
        try:
            kernel = self._start(root, slot, clock)
            kernel.start_phases = clock.phases
            return kernel
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            if slot is not None:
                kill_uid(slot.uid)
                slot.release()
            raise

    def _spec(self, root: Path, slot: Slot | None, conn_file: Path) -> KernelSpec:
        work = root / "work"
        lim = self.limits
        scratch = []
        if slot is not None:
            scratch = [[path, lim.max_disk_bytes // 4] for path in SCRATCH]
            # The kernel's sockets: on a tmpfs of its own too, so that nothing it can write
            # lies on the real disk (the grader reaches them through /proc/PID/root).
            scratch.append([str(root / "ipc"), IPC_DIR_BYTES])
            scratch.append([str(work), lim.max_disk_bytes])
        return KernelSpec(
            connection_file=str(conn_file),
            workdir=str(work),
            env=kernel_environment(self.device, work),
            python=self.python,
            rlimits=kernel_rlimits(self.limits, self.device, slot),
            scratch=scratch,
            keep_visible=[[p, False] for p in self.visible] + [[str(self.base_dir), True]],
            hold_dir=str(root / "hold"),
            uid=slot.uid if slot else None,
            gid=slot.gid if slot else None,
            site_dirs=self.site_dirs,
            preload=list(lim.preload),
            require_netns=self.require_netns,
        )

    def _start(self, root: Path, slot: Slot | None, clock: StartClock) -> ProcessKernel:
        os.chmod(root, 0o711 if slot else 0o700)
        run, work, ipc = root / "run", root / "work", root / "ipc"
        for path in (run, work, ipc, root / "hold"):
            path.mkdir(mode=0o700)
        # With a uid of its own, nothing the kernel can write lies on the real disk: run/ (its
        # connection file; the host may put sockets there for it) can be passed through but not
        # written, and its own sockets are made in ipc/, a small tmpfs in its view.
        sockets = ipc if slot else run
        if slot is not None:
            os.chmod(run, 0o711)
            os.chown(work, slot.uid, slot.gid)
        conn_file = run / "kernel.json"
        key = secrets.token_hex(32).encode()
        _, info = write_connection_file(
            str(conn_file), ip=str(sockets / "s"), transport="ipc", key=key
        )
        if slot is not None:
            os.chown(conn_file, 0, slot.gid)
            os.chmod(conn_file, 0o640)
        lim = self.limits
        spec = self._spec(root, slot, conn_file)
        cgroup, cgroup_note = None, ""
        if slot is not None:
            try:
                cgroup = kernel_cgroup(f"k-{root.name}", lim.memory_bytes, lim.max_processes)
                spec.cgroup_procs = cgroup.procs_files
            except CgroupUnavailable as exc:
                cgroup_note = f"no memory cgroup ({exc}): memory is limited per process only"
        clock.mark("prepare")
        log_path = root / "kernel.log"
        try:
            if self._fork_server is not None:
                log_path.touch(mode=0o600)
                spec.log_path = str(log_path)
                spec.status_path = str(root / "exit-status")
                proc: subprocess.Popen | ForkedProcess = self._fork_server.fork(
                    spec, Path(spec.status_path), lim.startup_timeout
                )
            else:
                proc = self._exec_launcher(spec, log_path)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        clock.mark("launch")
        # A message larger than this makes ZeroMQ drop it instead of the grader allocating it:
        # one `print` of a gigabyte must not exhaust the grader's memory.
        context = zmq.Context()
        context.setsockopt(zmq.MAXMSGSIZE, max(4 * lim.output_stop_bytes, 32 * 1024**2))
        signal_pid = proc.pid
        if self.view and isinstance(proc, subprocess.Popen):
            signal_pid = _bwrap_child(proc, lim.startup_timeout)
        if slot is not None:
            # The supervisor shares the kernel's mount namespace: its root shows the ipc/ tmpfs.
            info = {**info, "ip": f"/proc/{signal_pid}/root{sockets}/s"}
        client = BlockingKernelClient(context=context)
        client.load_connection_info(info)
        client.start_channels()
        kernel = ProcessKernel(proc, client, root, log_path, slot, [], cgroup)
        kernel.signal_pid = signal_pid
        clock.mark("connect")
        try:
            _wait_ready(kernel, lim.startup_timeout, clock)
        except BaseException:
            kernel.close()
            raise
        kernel.notes = [
            line.split("kernelcamp-sandbox: ", 1)[1]
            for line in kernel.log_tail().splitlines()
            if "kernelcamp-sandbox: " in line
        ]
        if cgroup_note:
            kernel.notes.append(cgroup_note)
        return kernel

    def _exec_launcher(self, spec: KernelSpec, log_path: Path) -> subprocess.Popen:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [*self.view, *self._launcher_argv()],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
        assert proc.stdin is not None
        proc.stdin.write(spec.to_json().encode())
        proc.stdin.close()
        return proc

    def close(self) -> None:
        if self._fork_server is not None:
            self._fork_server.close()


def _bwrap_child(proc: subprocess.Popen, timeout: float) -> int:
    """The pid of the command bwrap runs (the launcher's supervisor): bwrap forks it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        children = proctree.children(proc.pid)
        if children:
            return children[0]
        time.sleep(0.005)
    return proc.pid


def _wait_ready(kernel: ProcessKernel, timeout: float, clock: StartClock) -> None:
    """Return once the kernel answers on its shell channel and its iopub messages reach the
    grader. The two channels connect separately: a shell reply alone does not prove that the
    grader's iopub subscription is in place, and a cell run before it is would lose its busy,
    output and idle messages (the cell would then wait out its wall-clock limit). So, as
    jupyter_client's own wait_for_ready does, a kernel_info reply counts only once some iopub
    message (its status, or ipykernel's welcome to a new subscriber) has arrived too."""
    deadline = time.monotonic() + timeout
    client = kernel.client
    while time.monotonic() < deadline:
        if not kernel.is_alive():
            raise SandboxError(
                f"kernel did not start ({kernel.exit_reason()}): {kernel.log_tail(1500)}"
            )
        msg_id = client.kernel_info()
        try:
            while True:
                reply = client.get_shell_msg(timeout=0.5)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except Exception:  # noqa: BLE001 - queue.Empty: not listening yet
            continue
        clock.mark("shell")
        # Drain the start-up iopub traffic so the first cell's messages come first.
        received = 0
        while True:
            try:
                client.get_iopub_msg(timeout=0.05 if received else 0.5)
                received += 1
            except Exception:  # noqa: BLE001 - queue.Empty
                break
        if received:
            clock.mark("iopub")
            return
    raise SandboxError(f"kernel did not answer within {timeout:.0f} s: {kernel.log_tail(1500)}")


class StartClock:
    """Wall-clock seconds of each phase of a kernel's start (``ProcessKernel.start_phases``):
    where a slow start waited, for the result's log."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.phases: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.monotonic()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - self._last, 3)
        self._last = now
