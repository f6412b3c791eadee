"""ProcessSandbox: each kernel is a local process in its own session, jailed by _launcher.py.

Isolation, when the grader runs as root (the platform's worker container):
- a uid of its own per concurrently running kernel (uid_base + slot), so RLIMIT_NPROC binds,
  file permissions apply, and "kill every process of that uid" ends fork bombs that escaped the
  process group;
- network namespace with no interfaces up; mount namespace with size-capped tmpfs on the working
  directory, /tmp and /dev/shm, and the platform's own files hidden behind empty mounts;
- rlimits (address space, CPU, processes, file size, open files, core dumps off);
- an allow-listed environment.

As a non-root user the kernel runs as that user: limits still apply (RLIMIT_NPROC counts all the
user's processes, so it is raised by the number already running), a user+network namespace is
used when the kernel allows unprivileged ones, and the directories are protected by mode 0700.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from ..device import Device
from ..limits import Limits
from .base import KernelHandle, Sandbox, SandboxError, register
from .cgroups import CgroupUnavailable, SlotCgroup, slot_cgroup
from .fork_server import ForkedProcess, ForkServer
from .slots import Slot, count_user_processes, kill_uid

LAUNCHER = Path(__file__).with_name("_launcher.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Environment variables copied from the grader's environment when set (GPU plumbing only).
PASSTHROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "TZ")


def default_hidden_paths() -> list[str]:
    """Everything in the repository except the virtualenv the kernel runs from.

    Instructor sources with hidden tests live in notebooks/, settings and the SQLite database in
    platform/; the kernel needs none of it. KERNELCAMP_SANDBOX_HIDE adds more (os.pathsep list).
    """
    venv = Path(sys.prefix).resolve()
    hidden = []
    for entry in sorted(REPO_ROOT.iterdir()):
        resolved = entry.resolve()
        if resolved == venv or venv.is_relative_to(resolved):
            continue
        hidden.append(str(entry))
    extra = os.environ.get("KERNELCAMP_SANDBOX_HIDE", "")
    hidden.extend(p for p in extra.split(os.pathsep) if p)
    return hidden


def _open_to_others(path: Path, bit: int) -> bool:
    """Whether a user with no relation to the owner can reach ``path`` with permission ``bit``."""
    try:
        if not path.stat().st_mode & bit:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def sandbox_python(drops_privileges: bool) -> tuple[str, list[str]]:
    """The interpreter the kernel runs, and site-packages dirs to add when it is not the venv's.

    The virtualenv's python is used by its unresolved path (it finds pyvenv.cfg next to itself).
    When its real interpreter or standard library cannot be reached by the sandbox uid (a pyenv
    build under /root, say), the system python of the same version is used with the
    virtualenv's site-packages put first: same ABI, so the same compiled packages load.
    """
    venv_python = Path(sys.prefix) / "bin" / "python"
    stdlib = Path(os.__file__)
    if not drops_privileges or (
        _open_to_others(venv_python.resolve(), stat.S_IXOTH)
        and _open_to_others(stdlib, stat.S_IROTH)
    ):
        return str(venv_python), []
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        path = Path(candidate)
        if path.exists() and _open_to_others(path.resolve(), stat.S_IXOTH):
            return candidate, [p for p in site.getsitepackages() if os.path.isdir(p)]
    raise SandboxError(
        f"no python {version} that the sandbox user may run: make {venv_python.resolve()} and "
        "its standard library world-readable, or install the system python of that version"
    )


class ProcessKernel(KernelHandle):
    def __init__(
        self,
        proc: subprocess.Popen | ForkedProcess,
        client: BlockingKernelClient,
        root: Path,
        log_path: Path,
        slot: Slot | None,
        notes: list[str],
        cgroup: SlotCgroup | None = None,
    ) -> None:
        self.cgroup = cgroup
        self.proc = proc
        self.client = client
        self.root = root
        self.log_path = log_path
        self.slot = slot
        self.notes = notes
        self._closed = False

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    def interrupt(self) -> None:
        if self.is_alive():
            try:
                os.kill(self.proc.pid, signal.SIGINT)
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

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.slot is not None:
            kill_uid(self.slot.uid)
        else:
            _kill_descendants(self.proc.pid)
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
        if self.slot is not None:
            self.slot.release()


def _kill_descendants(pid: int) -> None:
    try:
        import psutil

        children = psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - the process may already be gone
        return
    for child in children:
        try:
            child.kill()
        except Exception:  # noqa: BLE001
            pass


@register
class ProcessSandbox(Sandbox):
    name = "process"

    def __init__(
        self,
        limits: Limits,
        device: Device,
        *,
        base_dir: str | Path | None = None,
        uid_base: int | None = None,
        hidden_paths: list[str] | None = None,
        require_netns: bool = False,
        fork_server: bool | None = None,
    ) -> None:
        super().__init__(limits, device)
        self.root_mode = os.geteuid() == 0
        default_base = Path("/var/tmp/kernelcamp-sandbox") if self.root_mode else None
        if base_dir is None and default_base is None:
            base_dir = Path(tempfile.gettempdir()) / f"kernelcamp-sandbox-{os.getuid()}"
        self.base_dir = Path(base_dir or default_base)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        # Traversable, not listable: kernels reach their own directory and nothing else.
        os.chmod(self.base_dir, 0o711 if self.root_mode else 0o700)
        env_base = os.environ.get("KERNELCAMP_SANDBOX_UID_BASE")
        self.uid_base = uid_base if uid_base is not None else int(env_base or 64000)
        self.hidden_paths = default_hidden_paths() if hidden_paths is None else hidden_paths
        self.require_netns = require_netns
        # Fixed for the sandbox's life: which interpreter kernels run, and with which packages.
        self.python, self.site_dirs = sandbox_python(self.root_mode)
        if fork_server is None:
            fork_server = os.environ.get("KERNELCAMP_SANDBOX_FORK_SERVER", "1") != "0"
        self._fork_server: ForkServer | None = None
        if fork_server:
            home = self.base_dir / ".fork-server"
            home.mkdir(mode=0o700, exist_ok=True)
            config = {
                "env": self._environment(home),
                "preload": list(self.limits.preload),
                "site_dirs": self.site_dirs,
            }
            flags = ["-I", "-S"] if self.site_dirs else ["-I"]
            self._fork_server = ForkServer(
                [self.python, *flags, str(LAUNCHER)], config, home / "server.log"
            )

    def describe(self) -> dict:
        return {
            "sandbox": self.name,
            "privilege": "per-kernel uid" if self.root_mode else "same user",
            "start": "fork server" if self._fork_server else "exec",
            "hidden_paths": self.hidden_paths,
        }

    def _environment(self, work: Path) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        env = {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{work}/.config/matplotlib",
            "XDG_CACHE_HOME": f"{work}/.cache",
            "XDG_CONFIG_HOME": f"{work}/.config",
            "IPYTHONDIR": f"{work}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{work}/.jupyter",
            "JUPYTER_DATA_DIR": f"{work}/.local/share/jupyter",
            "NUMBA_CACHE_DIR": f"{work}/.cache/numba",
            # One thread per library: fair sharing of a few cores, and RLIMIT_NPROC counts threads.
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMBA_NUM_THREADS": "1",
            # glibc reserves 64 MB of address space per malloc arena; RLIMIT_AS counts it.
            "MALLOC_ARENA_MAX": "2",
            "NBGRADER_EXECUTION": "autograde",
            "KERNELCAMP_DEVICE": self.device.label,
        }
        if self.device.simulator:
            env["NUMBA_ENABLE_CUDASIM"] = "1"
        for name in PASSTHROUGH:
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def _rlimits(self, slot: Slot | None) -> dict:
        lim = self.limits
        nproc = lim.max_processes
        if slot is None:
            nproc += count_user_processes(os.getuid())
        limits = {
            "RLIMIT_CPU": [lim.cpu_seconds, lim.cpu_seconds + 5],
            "RLIMIT_NPROC": nproc,
            "RLIMIT_FSIZE": lim.max_file_bytes,
            "RLIMIT_NOFILE": lim.max_open_files,
            "RLIMIT_CORE": 0,
        }
        # The CUDA driver reserves far more address space than it uses, so on a GPU the limit
        # is on the data segment instead.
        limits["RLIMIT_AS" if self.device.simulator else "RLIMIT_DATA"] = lim.memory_bytes
        return limits

    @staticmethod
    def _site_dirs_abs() -> list[str]:
        return [str(Path(p).resolve()) for p in site.getsitepackages() if os.path.isdir(p)]

    def start_kernel(self) -> ProcessKernel:
        slot = Slot(self.base_dir / ".slots", self.uid_base) if self.root_mode else None
        root = Path(tempfile.mkdtemp(prefix="k", dir=self.base_dir))
        try:
            return self._start(root, slot)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            if slot is not None:
                kill_uid(slot.uid)
                slot.release()
            raise

    def _start(self, root: Path, slot: Slot | None) -> ProcessKernel:
        os.chmod(root, 0o711 if slot else 0o700)
        run, work = root / "run", root / "work"
        run.mkdir(mode=0o700)
        work.mkdir(mode=0o700)
        if slot is not None:
            for path in (run, work):
                os.chown(path, slot.uid, slot.gid)
        conn_file = run / "kernel.json"
        key = secrets.token_hex(32).encode()
        _, info = write_connection_file(str(conn_file), ip=str(run / "s"), transport="ipc", key=key)
        if slot is not None:
            os.chown(conn_file, slot.uid, slot.gid)
        lim = self.limits
        tmpfs = []
        if slot is not None:
            for path in (str(work), "/tmp", "/dev/shm"):
                size = lim.max_disk_bytes if path == str(work) else lim.max_disk_bytes // 4
                tmpfs.append({"path": path, "size": size, "uid": slot.uid, "gid": slot.gid})
        config = {
            "uid": slot.uid if slot else None,
            "gid": slot.gid if slot else None,
            "workdir": str(work),
            "env": self._environment(work),
            "rlimits": self._rlimits(slot),
            "hidden_paths": self.hidden_paths,
            "tmpfs": tmpfs,
            # What the kernel runs from must survive the tmpfs on /tmp (CI may clone there).
            "keep_visible": sorted({str(Path(sys.prefix).resolve()), *self._site_dirs_abs()}),
            "hold_dir": str(run.parent),
            "require_netns": self.require_netns,
            "preload": list(lim.preload),
            "connection_file": str(conn_file),
        }
        config["python"], config["site_dirs"] = self.python, self.site_dirs
        cgroup, cgroup_note = None, ""
        if slot is not None:
            try:
                cgroup = slot_cgroup(slot.index, lim.memory_bytes, lim.max_processes)
                config["cgroup_procs"] = cgroup.procs_files
            except CgroupUnavailable as exc:
                cgroup_note = f"no memory cgroup ({exc}): memory is limited per process only"
        log_path = root / "kernel.log"
        if self._fork_server is not None:
            log_path.touch(mode=0o600)
            config["log_path"] = str(log_path)
            proc: subprocess.Popen | ForkedProcess = self._fork_server.fork(
                config, root / "exit-status", lim.startup_timeout
            )
        else:
            proc = self._exec_launcher(config, log_path)
        # A message larger than this makes ZeroMQ drop it instead of the grader allocating it:
        # one `print` of a gigabyte must not exhaust the grader's memory.
        context = zmq.Context()
        context.setsockopt(zmq.MAXMSGSIZE, max(4 * lim.output_stop_bytes, 32 * 1024**2))
        client = BlockingKernelClient(context=context)
        client.load_connection_info(info)
        client.start_channels()
        kernel = ProcessKernel(proc, client, root, log_path, slot, [], cgroup)
        try:
            _wait_ready(kernel, lim.startup_timeout)
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

    @staticmethod
    def _exec_launcher(config: dict, log_path: Path) -> subprocess.Popen:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(LAUNCHER)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(config).encode())
        proc.stdin.close()
        return proc

    def close(self) -> None:
        if self._fork_server is not None:
            self._fork_server.close()


def _wait_ready(kernel: ProcessKernel, timeout: float) -> None:
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
        # Drain the start-up iopub traffic so the first cell's messages come first.
        while True:
            try:
                client.get_iopub_msg(timeout=0.05)
            except Exception:  # noqa: BLE001
                break
        return
    raise SandboxError(f"kernel did not answer within {timeout:.0f} s: {kernel.log_tail(1500)}")
