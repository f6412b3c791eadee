"""Sandboxed kernel launcher: runs as its own process, standard library only until the kernel starts.

It is executed by path with ``python -I`` (isolated mode: no PYTHONPATH, no user site, no script
directory on sys.path), so nothing under the student's control can be imported before the jail is
up. It reads its configuration as JSON on stdin, then, in this order:

1. new network (and, when paths must be hidden, mount) namespace: the kernel has no network;
2. hides the configured paths behind empty read-only mounts;
3. sets resource limits (memory, CPU, processes, file size, open files, no core dumps);
4. drops to the sandbox uid/gid with no supplementary groups (root can read everything and
   RLIMIT_NPROC does not bind root);
5. changes into the private working directory; the exec below gets only the allow-listed
   environment (NUMBA_ENABLE_CUDASIM must be set before numba is imported);
6. execs a fresh interpreter (the virtualenv's python) which installs an audit hook refusing IP
   sockets (defence in depth where namespaces are unavailable), pre-imports the configured
   modules (numpy, numba) so a warm kernel saves that time, and becomes an IPython kernel on the
   connection file (ipc transport: unix sockets in its own directory).

Exit codes 70-79 mean the jail could not be built; the parent reports them.
"""

import ctypes
import json
import os
import resource
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


def main():
    cfg = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    notes = _isolate(cfg)
    _set_limits(cfg.get("rlimits", {}))
    _drop_privileges(cfg.get("uid"), cfg.get("gid"))
    os.umask(0o077)
    os.chdir(cfg["workdir"])
    for note in notes:
        sys.stderr.write(f"kernelcamp-sandbox: {note}\n")
    sys.stderr.flush()
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
    main()
