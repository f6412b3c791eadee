"""What a kernel sees: the filesystem view bubblewrap builds, the interpreter it runs, its
environment and its rlimits (grader/sandbox/process.py starts kernels in them)."""

from __future__ import annotations

import glob
import os
import shutil
import site
import stat
import sys
from pathlib import Path

from ..device import Device
from ..limits import Limits
from .base import SandboxError
from .slots import Slot, count_user_processes

LAUNCHER = Path(__file__).with_name("_launcher.py")
#: Environment variables copied from the grader's environment when set (GPU plumbing only).
PASSTHROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "TZ")
#: Writable places of the filesystem view; each kernel gets its own tmpfs on each (and on its
#: working directory, which is also $HOME).
SCRATCH = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")
#: What of /etc a kernel may need: the dynamic linker, time zone, fonts, certificates, names.
ETC_VISIBLE = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "fonts", "ssl",
    "ca-certificates", "nsswitch.conf", "passwd", "group", "hosts", "mime.types", "alternatives",
)  # fmt: skip


def _open_to_others(path: Path, bit: int) -> bool:
    """Whether a user with no relation to the owner can reach ``path`` with permission ``bit``."""
    try:
        if not path.stat().st_mode & bit:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def site_dirs() -> list[str]:
    """The grader's site-packages directories, resolved."""
    return [str(Path(p).resolve()) for p in site.getsitepackages() if os.path.isdir(p)]


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
            return candidate, site_dirs()
    raise SandboxError(
        f"no python {version} that the sandbox user may run: make {venv_python.resolve()} and "
        "its standard library world-readable, or install the system python of that version"
    )


def readonly_paths(python: str, extra: list[str]) -> list[str]:
    """Read-only paths of the view besides /usr and /etc: the interpreter and packages."""
    paths = {str(Path(sys.prefix).resolve()), *site_dirs(), *extra}
    python_home = Path(python).resolve().parents[1]
    if not str(python_home).startswith("/usr"):
        paths.add(str(python_home))
    return sorted(paths)


def inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def bwrap_view(device: Device, base_dir: Path, visible: list[str]) -> list[str]:
    """The bubblewrap command line that makes the filesystem view the fork server (and so every
    kernel) starts in. bwrap keeps root's capabilities here (--cap-add ALL): each kernel still
    needs them to make its own namespaces and mounts, then drops them all with its uid."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError(
            "bubblewrap is not installed (apt-get install bubblewrap): the sandbox needs it "
            "to give kernels a filesystem view without the platform's files"
        )
    view = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    view += ["--cap-add", "ALL", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        if os.path.islink(top):
            view += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            view += ["--ro-bind", top, top]
    # bwrap makes /etc (a parent of the files bound below) mode 0700: the sandbox uid could not
    # reach one of them, the dynamic linker's cache included (an exec'd kernel then could not
    # find libcudart, and numba.cuda failed to import).
    view += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_VISIBLE:
        view += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    view += ["--proc", "/proc", "--dev", "/dev"]
    for path in SCRATCH:
        view += ["--tmpfs", path]
    if not device.simulator:
        for node in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/*")):
            view += ["--dev-bind", node, node]
        view += ["--ro-bind", "/sys", "/sys"]
        for path in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
            if path:
                view += ["--ro-bind-try", path, path]
    # bwrap makes missing parents of a mount point mode 0700: the sandbox uid must be able
    # to pass through them.
    bound = [str(base_dir), str(LAUNCHER), *visible]
    parents = {str(parent) for path in bound for parent in Path(path).parents}
    for parent in sorted(parents - {"/"}):
        if not parent.startswith("/usr") and not any(inside(parent, b) for b in bound):
            view += ["--perms", "0755", "--dir", parent]
    for path in visible:
        view += ["--ro-bind", path, path]
    view += ["--bind", str(base_dir), str(base_dir)]
    view += ["--ro-bind", str(LAUNCHER), str(LAUNCHER)]  # standard library only
    if os.path.isdir("/sys/fs/cgroup"):
        # Each kernel joins its group from inside, then unmounts this from its own view.
        view += ["--bind", "/sys/fs/cgroup", "/sys/fs/cgroup"]
    return [*view, "--chdir", "/", "--"]


def kernel_environment(device: Device, work: Path) -> dict[str, str]:
    """The kernel's whole environment (an allow-list): ``work`` is its home."""
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
        # nbgrader scores a test cell that wrote to stderr 0; on a GPU numba-cuda warns there
        # about small grids and host arrays passed to a launch, which the exercises do.
        "NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS": "0",
        "NUMBA_CUDA_WARN_ON_IMPLICIT_COPY": "0",
        "KERNELCAMP_DEVICE": device.label,
    }
    if device.simulator:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    for name in PASSTHROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def kernel_rlimits(limits: Limits, device: Device, slot: Slot | None) -> dict[str, list[int]]:
    """The kernel's rlimits; without a uid of its own, RLIMIT_NPROC counts the user's processes
    already running too."""
    nproc = limits.max_processes
    if slot is None:
        nproc += count_user_processes(os.getuid())
    rlimits = {
        "RLIMIT_CPU": [limits.cpu_seconds, limits.cpu_seconds + 5],
        "RLIMIT_NPROC": [nproc, nproc],
        "RLIMIT_FSIZE": [limits.max_file_bytes] * 2,
        "RLIMIT_NOFILE": [limits.max_open_files] * 2,
        "RLIMIT_CORE": [0, 0],
    }
    # The CUDA driver reserves far more address space than it uses, so on a GPU the limit is on
    # the data segment instead.
    rlimits["RLIMIT_AS" if device.simulator else "RLIMIT_DATA"] = [limits.memory_bytes] * 2
    return rlimits
