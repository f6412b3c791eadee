"""Sandboxed kernel launcher: runs as its own process, standard library only until the kernel starts.

It is executed by path with ``python -I`` (isolated mode: no PYTHONPATH, no user site, no script
directory on sys.path), so nothing under the student's control can be imported before the jail is
up. It reads its configuration as JSON on stdin, then, in this order:

1. new network (and, when paths must be hidden, mount) namespace: the kernel has no network;
2. hides the configured paths behind empty read-only mounts;
3. joins the slot's control groups (memory and processes of all its processes together), then
   sets resource limits (memory, CPU, processes, file size, open files, no core dumps);
4. drops to the sandbox uid/gid with no supplementary groups (root can read everything and
   RLIMIT_NPROC does not bind root);
5. changes into the private working directory; the exec below gets only the allow-listed
   environment (NUMBA_ENABLE_CUDASIM must be set before numba is imported);
6. execs a fresh interpreter (the virtualenv's python) which installs an audit hook refusing IP
   sockets (defence in depth where namespaces are unavailable), pre-imports the configured
   modules (numpy, numba) so a warm kernel saves that time, and becomes an IPython kernel on the
   connection file (ipc transport: unix sockets in its own directory).

Exit codes 70-79 mean the jail could not be built; the parent reports them.

Fork-server mode (``--fork-server``): the same interpreter first imports what every kernel
needs (the preload list and ipykernel: about a second of CPU per kernel otherwise), then serves
requests on a socket from the grader. For each request it forks; the child builds the same jail
(steps 1-5), takes the kernel's own environment and becomes the kernel without an exec. The
server holds no secret: it starts with the sandbox's allow-listed environment, reads no
connection file and keeps no student data. It reaps its children and writes each one's exit
status to a file in the kernel's root-owned directory, where the grader reads it.
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

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REMOUNT = 32
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _fail(code, message):
    sys.stderr.write(f"kernelcamp-sandbox: {message}\n")
    sys.stderr.flush()
    os._exit(code)


def _unshare(flags):
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        return ctypes.get_errno()
    return 0


def _mount(source, target, fstype, flags, data):
    rc = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        return ctypes.get_errno()
    return 0


def _hold_paths_under(mount_point, paths, hold_dir):
    """Bind paths that a tmpfs on mount_point would cover (a virtualenv in a checkout under /tmp)
    to a holding place, so they can be put back read-only on top of the new tmpfs."""
    held = []
    for index, path in enumerate(paths):
        if not (path == mount_point or path.startswith(mount_point.rstrip("/") + "/")):
            continue
        if not os.path.isdir(path):
            continue
        holder = os.path.join(hold_dir, f"keep{index}")
        os.makedirs(holder, exist_ok=True)
        err = _mount(path, holder, None, MS_BIND | MS_REC, None)
        if err:
            _fail(73, f"cannot keep {path} visible: {os.strerror(err)}")
        held.append((holder, path))
    return held


def _restore_held(held):
    for holder, path in held:
        os.makedirs(path, exist_ok=True)
        err = _mount(holder, path, None, MS_BIND | MS_REC, None)
        if not err:
            err = _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        if err:
            _fail(73, f"cannot put {path} back: {os.strerror(err)}")


def _isolate(cfg):
    """Namespaces and hidden paths. Returns a list of notes for the kernel's log."""
    notes = []
    hidden = [p for p in cfg.get("hidden_paths", []) if os.path.exists(p)]
    scratch = [m for m in cfg.get("tmpfs", []) if os.path.isdir(m["path"])]
    if os.geteuid() == 0:
        flags = CLONE_NEWNET | (CLONE_NEWNS if hidden or scratch else 0)
        err = _unshare(flags)
        if err:
            if cfg.get("require_netns"):
                _fail(71, f"unshare(net) failed: {os.strerror(err)}")
            notes.append(f"network namespace unavailable ({os.strerror(err)})")
            return notes
        if hidden or scratch:
            err = _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
            if err:
                _fail(72, f"cannot make mounts private: {os.strerror(err)}")
            for path in hidden:
                if os.path.isdir(path):
                    err = _mount(
                        "tmpfs",
                        path,
                        "tmpfs",
                        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "size=4k,mode=0555",
                    )
                else:
                    err = _mount("/dev/null", path, None, MS_BIND, None)
                if err:
                    _fail(73, f"cannot hide {path}: {os.strerror(err)}")
            # Size-capped scratch space: a submission cannot fill the machine's disk.
            for m in scratch:
                kept = _hold_paths_under(m["path"], cfg.get("keep_visible", []), cfg["hold_dir"])
                opts = f"size={m['size']},mode=0700,uid={m['uid']},gid={m['gid']}"
                err = _mount("tmpfs", m["path"], "tmpfs", MS_NOSUID | MS_NODEV, opts)
                if err:
                    _fail(73, f"cannot mount scratch on {m['path']}: {os.strerror(err)}")
                _restore_held(kept)
    else:
        # Unprivileged: a user namespace lets us create a network namespace without root. The
        # process keeps its real uid outside, so file access is unchanged.
        err = _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        if err:
            if cfg.get("require_netns"):
                _fail(71, f"unshare(user+net) failed: {os.strerror(err)}")
            notes.append(f"network namespace unavailable ({os.strerror(err)})")
    return notes


def _join_cgroups(procs_files):
    """Move this process into the slot's control groups (written by root, before the uid drop);
    every process it starts stays in them."""
    for path in procs_files:
        try:
            with open(path, "w") as fh:
                fh.write(str(os.getpid()))
        except OSError as exc:
            _fail(78, f"cannot join {path}: {exc}")


def _set_limits(limits):
    for name, value in limits.items():
        which = getattr(resource, name)
        if isinstance(value, list):
            soft, hard = value
        else:
            soft = hard = value
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError) as exc:
            _fail(74, f"cannot set {name}={value}: {exc}")


def _drop_privileges(uid, gid):
    if os.geteuid() != 0 or uid is None:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.geteuid() == 0:
        _fail(75, "still root after setuid")


# Runs in the exec'd interpreter as the sandbox user.
# argv: -c, connection file, preload list, site-packages dirs (os.pathsep list, may be empty).
BOOT = r"""
import sys

if sys.argv[3]:
    # Started with -S: put the grader's site-packages first (ahead of any system dist-packages).
    import site
    for _d in sys.argv[3].split(":"):
        site.addsitedir(_d)
        sys.path.remove(_d)
        sys.path.insert(0, _d)

def _no_ip_sockets(event, args):
    # Refuse IPv4/IPv6 sockets at the Python level. The kernel's own ZeroMQ sockets are made in
    # C and are unix sockets. ctypes can bypass this; the network namespace is the real barrier.
    if event == "socket.__new__" and len(args) > 1 and args[1] in (2, 10):
        raise PermissionError("network access is disabled while grading")

sys.addaudithook(_no_ip_sockets)
for _m in filter(None, sys.argv[2].split(",")):
    try:
        __import__(_m)
    except Exception as _e:
        sys.stderr.write(f"kernelcamp-sandbox: preload {_m} failed: {_e}\n")
_conn = sys.argv[1]
sys.argv = ["ipykernel_launcher", "-f", _conn, "--HistoryManager.hist_file=:memory:",
            "--IPKernelApp.quiet=True"]
del _m, _conn
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def _enter_jail(cfg):
    """Steps 1-5, the same for an exec'd and a forked kernel: namespaces and hidden paths,
    control groups, limits, the sandbox uid, the private working directory."""
    notes = _isolate(cfg)
    _join_cgroups(cfg.get("cgroup_procs", []))
    _set_limits(cfg.get("rlimits", {}))
    _drop_privileges(cfg.get("uid"), cfg.get("gid"))
    os.umask(0o077)
    os.chdir(cfg["workdir"])
    for note in notes:
        sys.stderr.write(f"kernelcamp-sandbox: {note}\n")
    sys.stderr.flush()


def _add_site_dirs(site_dirs):
    """Started with -S: put the grader's site-packages first (ahead of system dist-packages)."""
    import site

    for path in site_dirs:
        site.addsitedir(path)
        sys.path.remove(path)
        sys.path.insert(0, path)


def _no_ip_sockets(event, args):
    # See BOOT: the same hook, for kernels forked from the server.
    if event == "socket.__new__" and len(args) > 1 and args[1] in (2, 10):
        raise PermissionError("network access is disabled while grading")


def _read_message(sock):
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            return None
        header += chunk
    (size,) = struct.unpack("!I", header)
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def _send_message(sock, message):
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _become_kernel(cfg, control, wake):
    """In the forked child: the jail of main(), then the kernel itself. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        for fd in wake:
            os.close(fd)
        os.setsid()
        log = os.open(cfg["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        _enter_jail(cfg)
        os.environ.clear()
        os.environ.update(cfg["env"])
        # Fresh processes draw different random numbers; forked ones must too (the standard
        # library's random reseeds itself after fork, numpy's legacy global state does not).
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp

        sys.argv = [
            "ipykernel_launcher",
            "-f",
            cfg["connection_file"],
            "--HistoryManager.hist_file=:memory:",
            "--IPKernelApp.quiet=True",
        ]
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - report anything, then leave
        try:
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
    cfg = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _add_site_dirs(cfg.get("site_dirs", []))
    sys.addaudithook(_no_ip_sockets)
    for name in cfg.get("preload", []):
        try:
            __import__(name)
        except Exception as exc:  # noqa: BLE001 - the kernel will report the import itself
            sys.stderr.write(f"kernelcamp-sandbox: preload {name} failed: {exc}\n")
    from ipykernel import kernelapp  # noqa: F401 - imported once here, used by every child

    control = socket.socket(fileno=cfg["control_fd"])
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
        pid = os.fork()
        if pid == 0:
            _become_kernel(request, control, (wake_r, wake_w))
        children[pid] = request["status_path"]
        _send_message(control, {"pid": pid})
        _reap(children)


def main():
    cfg = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _enter_jail(cfg)
    # A fresh interpreter image as the sandbox user: nothing of the root-era process survives,
    # and the interpreter resolves its standard library with the sandbox user's permissions.
    python = cfg["python"]
    site_dirs = cfg.get("site_dirs", [])
    flags = ["-I", "-S"] if site_dirs else ["-I"]
    argv = [python, *flags, "-c", BOOT, cfg["connection_file"], ",".join(cfg.get("preload", []))]
    argv.append(":".join(site_dirs))
    try:
        os.execve(python, argv, cfg["env"])
    except OSError as exc:
        _fail(76, f"cannot start {python}: {exc}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--fork-server"]:
        fork_server_main()
    else:
        main()
