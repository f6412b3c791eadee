"""Session backends: what the site talks to in order to run servers. The setting picks one."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from compute.hub import HubClient, HubUnavailable, ServerState

#: Hub groups named so give their members a shared team folder (deploy/jupyterhub/kc_spawner).
TEAM_GROUP_PREFIX = "kc-team-"


class SessionBackend(abc.ABC):
    """The operations the session services need; a backend for another system implements these.
    Starting and stopping are called from background work only (compute.runner, the reconcile
    task, commands), never from a web request."""

    def account_name(self, user) -> str:
        return user.get_username().lower()

    @abc.abstractmethod
    def configured(self) -> bool:
        """Whether the site has what it needs to reach the system (URL, token)."""

    @abc.abstractmethod
    def ensure_account(self, name: str) -> None:
        """Create the user's account on the system if it has none."""

    def sync_team_groups(self, name: str, groups: set[str]) -> None:
        """Put the account in exactly these team groups (`kc-team-<id>`), from which the
        system gives the team's shared folder. A system without groups ignores it."""
        return None

    @abc.abstractmethod
    def start(self, name: str, user_options: dict[str, Any]) -> int:
        """Ask for the user's server: 201 when ready at once, 202 while it spawns."""

    @abc.abstractmethod
    def state(self, name: str) -> ServerState:
        """What the system says of the user's server now."""

    @abc.abstractmethod
    def stop(self, name: str) -> None:
        """Ask for the user's server to stop (it may take a moment)."""

    @abc.abstractmethod
    def progress(self, name: str) -> Iterator[dict]:
        """The spawn's progress events until it is ready or failed."""

    @abc.abstractmethod
    def running(self) -> dict[str, ServerState]:
        """Every server that exists now, by account name."""

    @abc.abstractmethod
    def end_access(self, name: str) -> None:
        """Revoke what lets the user's browser reach the server."""

    @abc.abstractmethod
    def file_exists(self, name: str, path: str) -> bool:
        """Whether a file exists in the user's server."""

    @abc.abstractmethod
    def ensure_directory(self, name: str, path: str) -> None:
        """Create a folder in the user's server if missing."""

    @abc.abstractmethod
    def write_file(self, name: str, path: str, model: dict) -> None:
        """Write a Jupyter contents model into the user's server."""

    @abc.abstractmethod
    def read_notebook(self, name: str, path: str) -> dict:
        """Read a notebook back from the user's server."""

    @abc.abstractmethod
    def open_url(self, name: str) -> str:
        """Where the user's browser opens the server (no request made)."""


class JupyterHubBackend(SessionBackend):
    """JupyterHub's REST API with a service token; files through the hub's proxy."""

    def __init__(self) -> None:
        self.client = HubClient(
            settings.KC_HUB_URL,
            settings.KC_HUB_API_TOKEN,
            api_url=settings.KC_HUB_API_URL,
            timeout=settings.KC_HUB_TIMEOUT_S,
        )

    def configured(self) -> bool:
        return bool(settings.KC_HUB_URL and settings.KC_HUB_API_TOKEN)

    def ensure_account(self, name: str) -> None:
        self.client.ensure_user(name)

    def sync_team_groups(self, name: str, groups: set[str]) -> None:
        self.client.sync_groups(name, groups, TEAM_GROUP_PREFIX)

    def start(self, name: str, user_options: dict[str, Any]) -> int:
        return self.client.start(name, user_options)

    def state(self, name: str) -> ServerState:
        return self.client.server(name)

    def stop(self, name: str) -> None:
        self.client.stop(name)

    def progress(self, name: str) -> Iterator[dict]:
        return self.client.progress(name, read_timeout=settings.KC_SPAWN_TIMEOUT_S)

    def running(self) -> dict[str, ServerState]:
        states = {}
        for user in self.client.active_users():
            state = self.client.server_from_model(user)
            if state.exists:
                states[user["name"]] = state
        return states

    def end_access(self, name: str) -> None:
        self.client.delete_tokens(name)

    def file_exists(self, name: str, path: str) -> bool:
        return self.client.file_exists(name, path)

    def ensure_directory(self, name: str, path: str) -> None:
        self.client.ensure_directory(name, path)

    def write_file(self, name: str, path: str, model: dict) -> None:
        self.client.write_file(name, path, model)

    def read_notebook(self, name: str, path: str) -> dict:
        return self.client.read_notebook(name, path)

    def open_url(self, name: str) -> str:
        return f"{self.client.url}/user/{self.client._user(name)}/lab"


@lru_cache(maxsize=4)
def _backend(path: str, url: str, token: str) -> SessionBackend:
    return import_string(path)()


def get_backend() -> SessionBackend:
    # Keyed on the settings so that tests that change them get a fresh backend.
    return _backend(settings.KC_SESSION_BACKEND, settings.KC_HUB_URL, settings.KC_HUB_API_TOKEN)


__all__ = ["SessionBackend", "JupyterHubBackend", "HubUnavailable", "get_backend"]
