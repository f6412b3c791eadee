"""KernelCampSpawner: LocalProcessSpawner with one unprivileged account per student.

As root (scripts/run.sh, CI) each hub user's server runs as ``jupyter-<name>`` (made on first
launch, home 0700 under ``home_base``), with no supplementary groups but its teams' (whose shared
folders appear as ``~/team``, see kc_spawner.teams) and ``no_new_privs``, in a
mount namespace where the checkout, the hub's and the site's data are empty directories (only
the virtualenv and its Python show through, read-only) and /tmp and /dev/shm are its own, and in
a control group holding the profile's memory and CPU limits. Not as root (a laptop), servers run
as the hub's own user with a warning in the hub's log: no isolation at all.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import sys
from pathlib import Path
from subprocess import Popen

from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import Integer, List, Unicode

from kc_spawner import accounts, cgroups, teams

JAIL = Path(__file__).with_name("jail.py")
# Variables of the hub's environment a server must never see, even if `env_keep` grew.
SECRET_PREFIXES = ("KC_", "CONFIGPROXY_", "JPY_COOKIE_SECRET", "DJANGO_")


class KernelCampSpawner(LocalProcessSpawner):
    unix_name_prefix = Unicode("jupyter-", help="Prefix of the Unix account names.").tag(
        config=True
    )
    home_base = Unicode("/home", help="Where the accounts' homes are made.").tag(config=True)
    hidden_paths = List(
        Unicode(),
        help="Directories a server sees as empty: the checkout, the hub's and the site's data.",
    ).tag(config=True)
    private_paths = List(
        Unicode(),
        ["/tmp", "/dev/shm", "/var/tmp"],
        help="Directories each server gets a fresh, private tmpfs for.",
    ).tag(config=True)
    readonly_paths = List(
        Unicode(),
        help="Directories shown read-only inside hidden ones, besides the virtualenv and its Python.",
    ).tag(config=True)
    pids_limit = Integer(1024, help="Most processes and threads one server may hold.").tag(
        config=True
    )
    teams_base = Unicode(
        "/srv/kernelcamp/teams", help="Where the teams' shared folders are made (root only)."
    ).tag(config=True)
    team_unix_group_prefix = Unicode(
        "kc-team-", help="Prefix of the teams' Unix group names (the team id follows)."
    ).tag(config=True)
    fallback_home_template = Unicode(
        "/tmp/{username}", help="Home when the hub is not root (servers run as the hub's user)."
    ).tag(config=True)

    _account: accounts.UnixAccount | None = None

    @property
    def isolated(self) -> bool:
        return os.geteuid() == 0

    @property
    def unix_name(self) -> str:
        return accounts.unix_name(self.user.name, self.unix_name_prefix)

    def user_env(self, env: dict) -> dict:
        if self._account is not None:
            env["USER"] = self._account.name
            env["HOME"] = str(self._account.home)
            env["SHELL"] = self._account.shell or "/bin/bash"
        else:
            env["USER"] = pwd.getpwuid(os.getuid()).pw_name
            env["HOME"] = self.fallback_home_template.format(username=self.user.name)
            env["SHELL"] = "/bin/bash"
        return env

    def get_env(self) -> dict:
        env = super().get_env()
        for name in list(env):
            if name.startswith(SECRET_PREFIXES) and name not in self.environment:
                del env[name]
        return env

    async def team_folders(self) -> list[teams.TeamFolder]:
        """The shared folders of the teams the hub's groups put this user in (the site keeps
        those groups; a user cannot join one by themselves)."""
        ids = teams.team_ids([group.name for group in self.user.groups])
        return [
            await teams.ensure_team_folder(
                team_id, Path(self.teams_base), self.team_unix_group_prefix
            )
            for team_id in ids
        ]

    def jail_spec(
        self,
        account: accounts.UnixAccount,
        procs_files: list[str],
        folders: list[teams.TeamFolder] = (),
    ) -> dict:
        venv = Path(sys.prefix).resolve()
        python = Path(sys.base_prefix).resolve()
        keep = [str(venv), str(python), *(str(Path(p).resolve()) for p in self.readonly_paths)]
        # /root: a Python installed under root's home (pyenv) is shown again through it.
        hide = {str(Path(p).resolve()) for p in self.hidden_paths} | {"/root"}
        return {
            "uid": account.uid,
            "gid": account.gid,
            "home": str(account.home),
            "cgroup_procs": procs_files,
            "hide": sorted(hide),
            "private": list(self.private_paths),
            "keep": keep,
            "keep_writable": [str(account.home)],
            "binds": [
                [str(f.path), str(account.home / teams.mount_name(f, len(folders)))]
                for f in folders
            ],
            "groups": [f.gid for f in folders],
        }

    async def start(self) -> tuple[str, int]:
        if self.port == 0:
            self.port = random_port()
        command = [*self.cmd, *self.get_args()]
        if not self.isolated:
            return await self._start_unisolated(command)
        self._account = await accounts.ensure_account(
            self.unix_name, Path(self.home_base), comment=f"KernelCamp session of {self.user.name}"
        )
        procs_files = []
        try:
            group = await asyncio.to_thread(
                cgroups.session_cgroup,
                self._account.name,
                self.mem_limit,
                self.cpu_limit,
                self.pids_limit,
            )
            procs_files = group.procs_files
        except cgroups.CgroupUnavailable as exc:
            self.log.warning(
                "No control group for %s (%s): memory and CPU limits are NOT enforced",
                self.user.name,
                exc,
            )
        try:
            folders = await self.team_folders()
        except teams.TeamFolderError as exc:
            self.log.warning("No team folder for %s: %s", self.user.name, exc)
            folders = []
        spec = self.jail_spec(self._account, procs_files, folders)
        argv = [sys.executable, "-I", str(JAIL), json.dumps(spec), "--", *command]
        self.log.info("Spawning %s as %s: %s", self.user.name, self._account.name, command)
        self.proc = Popen(argv, env=self.get_env(), start_new_session=True)
        self.pid = self.proc.pid
        return (self.ip or "127.0.0.1", self.port)

    async def _start_unisolated(self, command: list[str]) -> tuple[str, int]:
        self.log.warning(
            "The hub is not running as root: %s's server runs as the hub's own user, with no "
            "separate account, no hidden files and no resource limits. Never do this with "
            "students: run the hub as root (scripts/run.sh does).",
            self.user.name,
        )
        home = Path(self.fallback_home_template.format(username=self.user.name))
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.proc = Popen(command, env=self.get_env(), cwd=home, start_new_session=True)
        self.pid = self.proc.pid
        return (self.ip or "127.0.0.1", self.port)

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        if self.isolated:
            # The server is gone; its kernels, terminals and background jobs go with it.
            group = cgroups.existing_cgroup(self.unix_name)
            if group is not None:
                await asyncio.to_thread(group.remove)

    def move_certs(self, paths: dict) -> dict:
        """Internal SSL is not used on loopback."""
        return paths
