"""Unix accounts for hub users: ``jupyter-<name>``, as The Littlest JupyterHub names them.

A hub name is lower-cased and anything useradd would refuse becomes ``-``. Whenever that changed
the name, or the result is too long for useradd (32 characters), a short hash of the original
name is appended, so two hub names never share an account and the same name always maps to the
same account.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import re
from dataclasses import dataclass
from pathlib import Path

MAX_UNIX_NAME = 32  # useradd (and utmp) refuse longer names
HASH_LENGTH = 8
_UNSAFE = re.compile(r"[^a-z0-9_-]")
_GECOS_UNSAFE = re.compile(r"[:,=\n\r\x00]")  # field separators useradd refuses in a comment
# useradd holds a lock on /etc/passwd while it works; concurrent spawns of one hub queue here,
# other processes (another hub, an admin) make it fail with these exit codes, and we retry.
_USERADD_BUSY = {1, 10}
_accounts_lock = asyncio.Lock()


class AccountError(RuntimeError):
    pass


@dataclass(frozen=True)
class UnixAccount:
    name: str
    uid: int
    gid: int
    home: Path
    shell: str


def unix_name(hub_name: str, prefix: str = "jupyter-") -> str:
    """The Unix account name for a hub user: deterministic, collision-safe, accepted by useradd."""
    lowered = hub_name.lower()
    safe = _UNSAFE.sub("-", lowered)
    name = prefix + safe
    if safe != hub_name or len(name) > MAX_UNIX_NAME:
        digest = hashlib.sha256(hub_name.encode()).hexdigest()[:HASH_LENGTH]
        room = MAX_UNIX_NAME - len(prefix) - HASH_LENGTH - 1
        if room < 1:
            raise ValueError(f"the account prefix {prefix!r} leaves no room for a name")
        name = f"{prefix}{safe[:room]}-{digest}"
    return name


def lookup(name: str) -> UnixAccount | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return UnixAccount(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), entry.pw_shell)


async def _run(*argv: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace").strip()


async def ensure_account(name: str, home_base: Path, comment: str = "") -> UnixAccount:
    """The account, made on first use with its own group, a locked password and a 0700 home."""
    async with _accounts_lock:
        account = lookup(name)
        if account is None:
            home = home_base / name
            argv = [
                "useradd",
                "--create-home",
                "--home-dir",
                str(home),
                "--shell",
                "/bin/bash",
                "--user-group",
                "--no-log-init",
                "--key",
                "UMASK=0077",
                "--comment",
                _GECOS_UNSAFE.sub("_", comment) or "KernelCamp session",
                name,
            ]
            for attempt in range(20):
                status, output = await _run(*argv)
                if status == 0 or (status == 9 and lookup(name)):  # 9: made meanwhile
                    break
                if status not in _USERADD_BUSY:
                    raise AccountError(f"useradd {name} failed ({status}): {output}")
                await asyncio.sleep(0.1 * (attempt + 1))
            else:
                raise AccountError(f"useradd {name}: /etc/passwd stayed locked")
            account = lookup(name)
            if account is None:
                raise AccountError(f"useradd {name} made no account")
    if account.uid == 0 or account.gid == 0:
        raise AccountError(f"refusing to run a server as {name}: it is uid or gid 0")
    # Whatever made the home, only its owner may enter it.
    account.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(account.home, account.uid, account.gid)
    os.chmod(account.home, 0o700)
    return account


async def remove_account(name: str) -> None:
    """Delete the account and its home (tests; an operator's clean-up)."""
    async with _accounts_lock:
        if lookup(name) is not None:
            await _run("userdel", "--remove", "--force", name)
