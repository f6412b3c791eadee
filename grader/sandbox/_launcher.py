"""Sandboxed kernel launcher: standard library only until the kernel starts.

It runs by path with ``python -I`` (isolated mode: no PYTHONPATH, no user site, no script
directory on sys.path), so nothing under the student's control is imported before the jail is up.
``process.py`` imports this module only for the launch contract (``KernelSpec``, ``ServerSpec``):
one dataclass per role, serialised once as JSON, read back here.

As root the launcher itself already runs inside bubblewrap (``bwrap``), which gives it the
sandbox's filesystem view: the interpreter, its packages and the sandbox's own directory, all
read-only but that directory; no network. Per kernel it then builds, in this order:

1. a supervisor (the process the grader knows) that unshares mount, IPC, PID, network and UTS
   namespaces, joins the kernel's own control groups and forks the kernel, which is PID 1 of its
   namespace: when it ends, every process it started ends with it, and no System V IPC object
   or file of its tmpfs mounts survives it. The supervisor forwards SIGINT and reports the
   kernel's exit as its own;
2. in the kernel: a fresh /proc (only its own processes), a size-capped tmpfs on every writable
   place (/tmp, /var/tmp, /run/lock, /dev/shm, the working directory = $HOME), the control
   groups unmounted from its view;
3. resource limits, then the sandbox uid/gid with no supplementary groups;
4. the private working directory and the allow-listed environment;
5. the kernel itself (``_boot``): written once, reached by exec (``--kernel``) or by fork from
   the fork server (``--fork-server``), which did the imports before forking.

As a non-root user there is no bwrap view, no PID namespace and no tmpfs: a user+network+IPC
namespace is tried, and limits apply.

Exit codes 70-79 mean the jail could not be built; the parent reports them.

It stays one file on purpose: bwrap binds only this file into the view (view.py), and exec mode
re-runs this file's text with ``-c`` inside the jail under ``-I``, so a sibling module would be
neither in the view before the jail nor on ``sys.path`` after it.
"""

import ctypes
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class KernelSpec:
    """Everything the launcher needs to jail and start one kernel (the launch contract)."""

    connection_file: str
    workdir: str
    env: dict
    python: str
    #: rlimit name -> [soft, hard]
    rlimits: dict = field(default_factory=dict)
    #: [path, size in bytes] of each private tmpfs, the working directory last.
    scratch: list = field(default_factory=list)
    #: Paths that must stay visible though a scratch tmpfs covers them: [path, writable].
    keep_visible: list = field(default_factory=list)
    #: Where to hold kept paths while a tmpfs is mounted over their parent.
    hold_dir: str = ""
    uid: int | None = None
    gid: int | None = None
    cgroup_procs: list = field(default_factory=list)
    site_dirs: list = field(default_factory=list)
    preload: list = field(default_factory=list)
    require_netns: bool = False
    #: Fork server only: the kernel's log, and where the server writes its exit status.
    log_path: str = ""
    status_path: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data):
        return cls(**json.loads(data))


@dataclass
class ServerSpec:
    """The fork server's own configuration: what every kernel it forks shares."""

    env: dict
    site_dirs: list = field(default_factory=list)
    preload: list = field(default_factory=list)
    control_fd: int = -1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data):
        return cls(**json.loads(data))


def _fail(code, message):
    sys.stderr.write(f"kernelcamp-sandbox: {message}\n")
    sys.stderr.flush()
    os._exit(code)


def _unshare(flags):
    return ctypes.get_errno() if _libc.unshare(ctypes.c_int(flags)) != 0 else 0


def _mount(source, target, fstype, flags, data):
    rc = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    return ctypes.get_errno() if rc != 0 else 0


def _under(path, parent):
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _mount_scratch(spec):
    """A fresh, size-capped tmpfs on every writable place. Paths that must stay visible below
    one (a virtualenv or the sandbox directory in a checkout under /tmp) are held aside and
    put back on top."""
    for index, (path, size) in enumerate(spec.scratch):
        held = []
        for number, (keep, writable) in enumerate(spec.keep_visible):
            if _under(keep, path) and keep != path and os.path.isdir(keep):
                holder = os.path.join(spec.hold_dir, f"hold{index}-{number}")
                os.makedirs(holder, exist_ok=True)
                if _mount(keep, holder, None, MS_BIND | MS_REC, None):
                    _fail(73, f"cannot keep {keep} visible")
                held.append((holder, keep, writable))
        os.makedirs(path, exist_ok=True)
        opts = f"size={size},mode=0700,uid={spec.uid},gid={spec.gid}"
        err = _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts)
        if err:
            _fail(73, f"cannot mount scratch on {path}: {os.strerror(err)}")
        for holder, keep, writable in held:
            os.makedirs(keep, exist_ok=True)
            err = _mount(holder, keep, None, MS_BIND | MS_REC, None)
            if not err and not writable:
                err = _mount(None, keep, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
            if err:
                _fail(73, f"cannot put {keep} back: {os.strerror(err)}")


def _join_cgroups(procs_files):
    for path in procs_files:
        try:
            with open(path, "w") as fh:
                fh.write(str(os.getpid()))
        except OSError as exc:
            _fail(78, f"cannot join {path}: {exc}")


def _set_limits(limits):
    for name, (soft, hard) in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError) as exc:
            _fail(74, f"cannot set {name}={soft}: {exc}")


def _drop_privileges(uid, gid):
    if os.geteuid() != 0 or uid is None:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.geteuid() == 0:
        _fail(75, "still root after setuid")


def _supervise(kernel_pid):
    """The supervisor's whole life: pass interrupts on, then leave as the kernel left."""

    def forward(signum, _frame):
        try:
            os.kill(kernel_pid, signum)
        except OSError:
            pass  # already gone: waitpid below returns

    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    try:
        _, status = os.waitpid(kernel_pid, 0)
    except ChildProcessError:
        os._exit(70)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status))


def _isolate_as_root(spec):
    """Step 1-2: returns in the kernel (PID 1 of new namespaces); the supervisor never returns."""
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS
    err = _unshare(flags)
    if err:
        _fail(71, f"unshare(mount, ipc, pid, net, uts) failed: {os.strerror(err)}")
    _join_cgroups(spec.cgroup_procs)
    pid = os.fork()
    if pid:
        _supervise(pid)
    if _mount(None, "/", None, MS_REC | MS_PRIVATE, None):
        _fail(72, "cannot make mounts private")
    if _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None):
        _fail(72, "cannot mount /proc")
    _mount_scratch(spec)
    if os.path.ismount("/sys/fs/cgroup"):
        _libc.umount2(b"/sys/fs/cgroup", ctypes.c_int(MNT_DETACH))
    return []


def _isolate_unprivileged(spec):
    # A user namespace lets a normal user create network and IPC namespaces; the process keeps
    # its real uid outside, so file access is unchanged.
    err = _unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC)
    if not err:
        return []
    if spec.require_netns:
        _fail(71, f"unshare(user, net, ipc) failed: {os.strerror(err)}")
    return [f"network namespace unavailable ({os.strerror(err)})"]


def _enter_jail(spec):
    """Steps 1-4, the same for an exec'd and a forked kernel."""
    notes = _isolate_as_root(spec) if os.geteuid() == 0 else _isolate_unprivileged(spec)
    _set_limits(spec.rlimits)
    _drop_privileges(spec.uid, spec.gid)
    os.umask(0o077)
    os.chdir(spec.workdir)
    for note in notes:
        sys.stderr.write(f"kernelcamp-sandbox: {note}\n")
    sys.stderr.flush()


def _no_ip_sockets(event, args):
    # Refuse IPv4/IPv6 sockets at the Python level. The kernel's ZeroMQ sockets are made in C
    # and are unix sockets. ctypes can bypass this; the network namespace is the real barrier.
    if event == "socket.__new__" and len(args) > 1 and args[1] in (2, 10):
        raise PermissionError("network access is disabled while grading")


def _prepare_interpreter(site_dirs, preload):
    """Once per interpreter (the fork server, or an exec'd kernel): packages, hook, imports."""
    if site_dirs:  # started with -S: the grader's site-packages first
        import site

        for path in site_dirs:
            site.addsitedir(path)
            sys.path.remove(path)
            sys.path.insert(0, path)
    sys.addaudithook(_no_ip_sockets)
    for name in preload:
        try:
            __import__(name)
        except Exception as exc:  # noqa: BLE001 - the kernel will report the import itself
            sys.stderr.write(f"kernelcamp-sandbox: preload {name} failed: {exc}\n")
    from ipykernel import kernelapp  # noqa: F401 - imported here so forks need not

    _bounded_output_messages()


#: ipykernel sends what a cell printed every 0.2 s as one message: a fast printer made messages of
#: tens of MB, over the grader's ZeroMQ size cap, so they and the cell's idle were dropped and an
#: honest cell timed out. Flushing at this size keeps every message small.
_FLUSH_AT = 1 << 20


def _bounded_output_messages():
    from ipykernel.iostream import OutStream

    write = OutStream.write

    def write_and_flush_when_large(self, string):
        written = write(self, string)
        try:
            pending = sum(buffer.tell() for buffer in self._buffers.values())
        except Exception:  # noqa: BLE001 - ipykernel's internals changed: keep its own timing
            return written
        if pending >= _FLUSH_AT:
            self.flush()
        return written

    OutStream.write = write_and_flush_when_large


#: How long an interrupt waits for a simulated launch's threads to end (a thread stuck in C code
#: does not; the grader then stops the kernel, as before).
_THREADS_END_S = 10.0


def _interrupt_cell(signum, frame):
    """The kernel's SIGINT handler while a cell runs (ipykernel's is signal.default_int_handler):
    KeyboardInterrupt in the main thread, as before, and the same for a simulated CUDA launch.

    numba-cuda's simulator runs each CUDA thread of a block as a Python thread while the main
    thread polls them; an interrupt ends only the polling, and a kernel that never returns
    keeps its threads spinning, so the grader had to kill the kernel and the later, independent
    cells lost their points (on a GPU an aborted launch leaves nothing running). So the block
    threads are ended too: woken from a syncthreads() wait with the simulator's own abort flag,
    and given an asynchronous SystemExit (which a thread ends on silently, printing nothing into
    a later cell). Nothing here is trusted: the grader still counts the kernel's threads and
    their CPU from outside, and stops the kernel if any go on."""
    simulator = sys.modules.get("numba.cuda.simulator.kernel")
    block_thread = getattr(simulator, "BlockThread", None)
    if isinstance(block_thread, type):
        import threading

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
        ending = []
        for thread in threading.enumerate():
            if isinstance(thread, block_thread) and thread.ident is not None:
                thread.abort = True
                thread.syncthreads_event.set()
                set_async_exc(thread.ident, SystemExit)
                ending.append(thread)
        # Joining gives the GIL to each thread in turn, so each ends at once; the cell's reply
        # then comes after they are gone, and the grader finds nothing left running.
        deadline = time.monotonic() + _THREADS_END_S
        for thread in ending:
            thread.join(max(0.0, deadline - time.monotonic()))
    raise KeyboardInterrupt


def _boot(connection_file):
    """Become the IPython kernel. Never returns."""
    # Forked kernels must draw different random numbers (numpy's global state survives a fork).
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel import kernelapp, kernelbase

    # ipykernel installs this handler (looked up at each cell) while a cell runs.
    kernelbase.default_int_handler = _interrupt_cell

    sys.argv = [
        "ipykernel_launcher",
        "-f",
        connection_file,
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.quiet=True",
    ]
    kernelapp.launch_new_instance()


def _interpreter_argv(python, site_dirs):
    return [python, "-I", "-S"] if site_dirs else [python, "-I"]


# --- exec mode ------------------------------------------------------------------------------


def main():
    spec = KernelSpec.from_json(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # Read now: the jail's tmpfs may cover this file (a checkout under /tmp, as in CI).
    with open(os.path.abspath(__file__), encoding="utf-8") as fh:
        source = fh.read()
    _enter_jail(spec)
    # A fresh interpreter image as the sandbox user: nothing of the root-era process survives.
    argv = [*_interpreter_argv(spec.python, spec.site_dirs), "-c", source]
    boot = {"connection_file": spec.connection_file, "site_dirs": spec.site_dirs}
    argv += ["--kernel", json.dumps({**boot, "preload": spec.preload})]
    try:
        os.execve(spec.python, argv, spec.env)
    except OSError as exc:
        _fail(76, f"cannot start {spec.python}: {exc}")


def kernel_main(boot):
    _prepare_interpreter(boot["site_dirs"], boot["preload"])
    _boot(boot["connection_file"])


# --- fork-server mode -----------------------------------------------------------------------


def _read_message(sock):
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    data = _read_exactly(sock, struct.unpack("!I", header)[0])
    return None if data is None else data.decode()


def _read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        if not chunk:
            return None
        data += chunk
    return data


def _send_message(sock, message):
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _forked_kernel(spec, control, wake):
    """In the forked child: the jail of main(), then the kernel itself. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        for fd in wake:
            os.close(fd)
        os.setsid()
        log = os.open(spec.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        _enter_jail(spec)
        os.environ.clear()
        os.environ.update(spec.env)
        _boot(spec.connection_file)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - report anything, then leave
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.write(f"kernelcamp-sandbox: kernel failed: {exc!r}\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        code = 77
    os._exit(code)


def _write_status(path, status):
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as fh:
            fh.write(str(code))
        os.replace(tmp, path)
    except OSError:
        pass  # the grader already removed the kernel's directory


def _reap(children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        path = children.pop(pid, None)
        if path:
            _write_status(path, status)


def fork_server_main():
    server = ServerSpec.from_json(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _prepare_interpreter(server.site_dirs, server.preload)
    # A kernel whose supervisor died is reparented here, not to the machine's init (which in a
    # container may never reap it), and reaped below.
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    control = socket.socket(fileno=server.control_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children = {}
    _send_message(control, {"ready": os.getpid()})
    while True:
        try:
            readable, _, _ = select.select([control, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            os.read(wake_r, 4096)
            _reap(children)
        if control not in readable:
            continue
        request = _read_message(control)
        if request is None:  # the grader is gone: so are the kernels it had not closed
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)  # each kernel leads its own session
                except OSError:
                    pass
            os._exit(0)
        spec = KernelSpec.from_json(request)
        pid = os.fork()
        if pid == 0:
            _forked_kernel(spec, control, (wake_r, wake_w))
        children[pid] = spec.status_path
        _send_message(control, {"pid": pid})
        _reap(children)


if __name__ == "__main__":
    if sys.argv[1:] == ["--fork-server"]:
        fork_server_main()
    elif sys.argv[1:2] == ["--kernel"]:
        kernel_main(json.loads(sys.argv[2]))
    else:
        main()
