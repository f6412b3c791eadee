"""Shared team folders: a hub group ``kc-team-<id>`` (kept by the site) becomes a Unix group and a
setgid ``2770`` directory ``<teams_base>/<unix group>``, owned by root and the group, which the jail
mounts into each member's home. Only the group's members, and root, can enter it.
"""

from __future__ import annotations

import asyncio
import grp
import os
import re
from dataclasses import dataclass
from pathlib import Path

HUB_GROUP = re.compile(r"kc-team-(\d+)")
_groups_lock = asyncio.Lock()


class TeamFolderError(RuntimeError):
    pass


@dataclass(frozen=True)
class TeamFolder:
    team_id: int
    gid: int
    path: Path


def team_ids(hub_group_names: list[str]) -> list[int]:
    """The team ids named by a user's hub groups, in order; other groups are ignored."""
    ids = {int(m.group(1)) for name in hub_group_names if (m := HUB_GROUP.fullmatch(name))}
    return sorted(ids)


async def _groupadd(name: str) -> int:
    async with _groups_lock:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            pass
        for attempt in range(20):
            process = await asyncio.create_subprocess_exec(
                "groupadd", "--system", name, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, error = await process.communicate()
            if process.returncode in (0, 9):  # 9: made meanwhile
                break
            if process.returncode != 10:  # 10: /etc/group is locked by someone else
                raise TeamFolderError(f"groupadd {name}: {error.decode(errors='replace')}")
            await asyncio.sleep(0.1 * (attempt + 1))
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            raise TeamFolderError(f"groupadd {name} made no group") from None


async def ensure_team_folder(team_id: int, base: Path, group_prefix: str) -> TeamFolder:
    """The team's Unix group and folder, made on first use; mode and owner set every time."""
    name = f"{group_prefix}{team_id}"
    gid = await _groupadd(name)
    if gid == 0:
        raise TeamFolderError(f"refusing team group {name}: it is gid 0")
    base.mkdir(mode=0o711, parents=True, exist_ok=True)  # members pass through, none list it
    os.chmod(base, 0o711)
    path = base / name
    path.mkdir(mode=0o2770, exist_ok=True)
    os.chown(path, 0, gid)
    os.chmod(path, 0o2770)  # setgid: what a member makes there belongs to the team's group
    return TeamFolder(team_id, gid, path)


def mount_name(folder: TeamFolder, count: int) -> str:
    """`team` in a member's home, or `team-<id>` for someone in several teams (several events)."""
    return "team" if count == 1 else f"team-{folder.team_id}"
