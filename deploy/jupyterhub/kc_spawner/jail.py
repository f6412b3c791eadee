"""Start a single-user server inside its jail, then become its student: run as root by the hub
(``python -I jail.py SPEC -- server command...``), it ends by exec'ing the server.

SPEC (JSON): ``uid``, ``gid``, ``home``, ``cgroup_procs`` (files to write our pid into),
``hide`` (directories covered by an empty tmpfs: the checkout, the hub's and the site's data),
``private`` (directories replaced by a fresh, private, world-writable tmpfs: /tmp, /dev/shm),
``keep`` (directories shown again inside hidden ones, read-only: the virtualenv, the Python it
points to), ``keep_writable`` (the student's home), ``binds`` (``[source, target]`` pairs: a team's
shared folder mounted at a path in the home) and ``groups`` (the only supplementary groups kept:
the student's teams').

Steps: join the control group; a new mount namespace, private so that nothing propagates back;
hide and replace; show the kept directories again through file descriptors opened beforehand;
mount the team folders; drop every supplementary group but the teams', the gid and the uid; a
umask of 007 so team files stay writable by the team (the home itself is 0700); set ``no_new_privs`` so that no setuid or
file-capability program can give anything back; exec. Standard library only: it runs with ``-I``.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def build_view(spec: dict) -> None:
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = [(path, False) for path in spec["keep"]] + [
        (path, True) for path in spec["keep_writable"]
    ]
    # Handles on what stays visible, taken before anything above them is covered.
    handles = {}
    for path, _ in keep:
        if os.path.exists(path):
            handles[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    binds = [
        (os.open(source, os.O_PATH | os.O_CLOEXEC | os.O_DIRECTORY), target)
        for source, target in spec.get("binds", [])
    ]
    covered = []
    tmpfs_flags = MS_NOSUID | MS_NODEV
    for path in sorted(spec["hide"] + spec["private"], key=len):
        if not os.path.isdir(path) or any(_under(path, done) for done in covered):
            continue  # gone already: under a directory covered before it
        if any(_under(path, kept) for kept, _ in keep):
            continue  # never cover part of what the student must see
        mode = "1777" if path in spec["private"] else "0755"
        mount("tmpfs", path, "tmpfs", tmpfs_flags, f"mode={mode},size=25%")
        covered.append(path)
    for path, writable in keep:
        if path not in handles or not any(_under(path, done) for done in covered):
            continue  # still visible where it is
        if os.path.isdir(f"/proc/self/fd/{handles[path]}"):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            open(path, "a").close()
        mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
        flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
        mount(None, path, None, flags)
    for handle in handles.values():
        os.close(handle)
    for handle, target in binds:
        # The mount point is made by root in the home; the student may remove it once unmounted.
        # A link left there by the student is never followed (it could point anywhere).
        if os.path.islink(target) or (os.path.exists(target) and not os.path.isdir(target)):
            print(f"kernelcamp jail: {target} is not a directory; no team folder", file=sys.stderr)
            os.close(handle)
            continue
        os.makedirs(target, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{handle}", target, None, MS_BIND)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
        os.close(handle)


def become(uid: int, gid: int, groups: list[int] = ()) -> None:
    groups = sorted({int(g) for g in groups})
    if 0 in groups:
        raise RuntimeError("refusing supplementary group 0")
    os.setgroups(groups)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    if os.getuid() == 0 or os.geteuid() == 0 or sorted(set(os.getgroups()) - {gid}) != groups:
        raise RuntimeError("still privileged after dropping root")


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        sys.exit("usage: jail.py SPEC -- COMMAND...")
    spec = json.loads(argv[1])
    command = argv[3:]
    for procs in spec["cgroup_procs"]:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    build_view(spec)
    become(int(spec["uid"]), int(spec["gid"]), spec.get("groups", []))
    os.umask(0o007)
    os.chdir(spec["home"])
    os.execvpe(command[0], command, os.environ)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as exc:  # the hub shows this line in its log; the spawn fails
        print(f"kernelcamp jail: {exc}", file=sys.stderr)
        sys.exit(70)
