"""A small client of JupyterHub's REST API and of the Jupyter contents API through its proxy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
import requests.adapters


class HubError(RuntimeError):
    """The hub answered, but not as hoped."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        #: Seconds the hub asked to wait before asking again (its 429's Retry-After).
        self.retry_after = retry_after


class HubUnavailable(HubError):
    """The hub (or its proxy) could not be reached at all."""


class HubTimeout(HubUnavailable):
    """The hub took the request but did not answer in time: it may have acted on it."""


@dataclass
class ServerState:
    """What the hub says of a user's default server."""

    exists: bool
    ready: bool = False
    pending: str | None = None
    started: str = ""
    last_activity: str = ""
    user_options: dict[str, Any] = field(default_factory=dict)
    url: str = ""

    @property
    def profile(self) -> str:
        return str(self.user_options.get("profile", ""))


class HubClient:
    def __init__(self, url: str, token: str, api_url: str = "", timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.api_url = (api_url or f"{self.url}/hub/api").rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        # One client serves every web worker thread: keep enough connections to the hub.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.headers["Authorization"] = f"token {token}"

    # --- plumbing --------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.http.request(method, url, **kwargs)
        except requests.ReadTimeout as exc:
            raise HubTimeout(str(exc)) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise HubUnavailable(str(exc)) from exc

    def api(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs) -> Any:
        response = self._request(method, f"{self.api_url}{path}", **kwargs)
        if response.status_code in (502, 503, 504):
            raise HubUnavailable(f"{method} {path}: {response.status_code}", response.status_code)
        if response.status_code not in ok:
            raise HubError(
                f"{method} {path}: {response.status_code} {_message(response)}",
                response.status_code,
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    @staticmethod
    def _user(name: str) -> str:
        return quote(name, safe="")

    # --- users and servers -----------------------------------------------------------------
    def info(self) -> dict:
        return self.api("GET", "/")

    def get_user(self, name: str) -> dict | None:
        response = self._request("GET", f"{self.api_url}/users/{self._user(name)}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise HubError(f"GET user: {response.status_code}", response.status_code)
        return response.json()

    def ensure_user(self, name: str) -> None:
        self.api("POST", f"/users/{self._user(name)}", ok=(201, 409))

    def server(self, name: str) -> ServerState:
        user = self.get_user(name)
        return self.server_from_model(user) if user else ServerState(exists=False)

    def server_from_model(self, user: dict) -> ServerState:
        server = (user.get("servers") or {}).get("")
        if not server:
            return ServerState(exists=False, pending=user.get("pending"))
        return ServerState(
            exists=True,
            ready=bool(server.get("ready")),
            pending=server.get("pending"),
            started=server.get("started") or "",
            last_activity=server.get("last_activity") or "",
            user_options=server.get("user_options") or {},
            url=f"{self.url}{server.get('url', '')}",
        )

    def start(self, name: str, user_options: dict[str, Any]) -> int:
        """201: ready; 202: still spawning. Raises HubError(400) when a server already runs."""
        response = self._request(
            "POST", f"{self.api_url}/users/{self._user(name)}/server", json=user_options
        )
        if response.status_code in (201, 202):
            return response.status_code
        if response.status_code in (502, 503, 504):
            raise HubUnavailable(f"start: {response.status_code}", response.status_code)
        raise HubError(_message(response), response.status_code, _retry_after(response))

    def stop(self, name: str) -> None:
        self.api("DELETE", f"/users/{self._user(name)}/server", ok=(202, 204, 400, 404))

    def sync_groups(self, name: str, wanted: set[str], prefix: str) -> None:
        """Make the user a member of exactly the `wanted` hub groups among those named
        `prefix...` (groups are made on first use; other groups are left alone)."""
        user = self.get_user(name) or {}
        current = {g for g in user.get("groups") or [] if g.startswith(prefix)}
        members = {"users": [name]}
        for group in sorted(wanted - current):
            self.api("POST", f"/groups/{quote(group, safe='')}", ok=(201, 409))
            self.api("POST", f"/groups/{quote(group, safe='')}/users", json=members)
        for group in sorted(current - wanted):
            self.api("DELETE", f"/groups/{quote(group, safe='')}/users", json=members)

    def progress(self, name: str, read_timeout: float = 120.0) -> Iterator[dict]:
        """The spawn's progress events, as the hub streams them (ends when ready or failed)."""
        try:
            response = self.http.get(
                f"{self.api_url}/users/{self._user(name)}/server/progress",
                stream=True,
                timeout=(self.timeout, read_timeout),
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise HubUnavailable(str(exc)) from exc
        with response:
            if response.status_code != 200:
                raise HubError(f"progress: {response.status_code}", response.status_code)
            for line in response.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    try:
                        yield json.loads(line[5:])
                    except ValueError:
                        continue

    def active_users(self) -> list[dict]:
        return self.api("GET", "/users", params={"state": "active", "limit": 10000}) or []

    def delete_tokens(self, name: str) -> int:
        """Revoke every API and OAuth token the hub issued to the user (ends server access)."""
        user = self._user(name)
        response = self._request("GET", f"{self.api_url}/users/{user}/tokens")
        if response.status_code == 404:
            return 0
        if response.status_code != 200:
            raise HubError(f"tokens: {response.status_code}", response.status_code)
        tokens = response.json()
        tokens = tokens.get("api_tokens", []) + tokens.get("oauth_tokens", [])
        for token in tokens:
            self.api("DELETE", f"/users/{user}/tokens/{token['id']}", ok=(204, 404))
        return len(tokens)

    # --- files in the user's server (through the proxy) -------------------------------------
    def _contents_url(self, name: str, path: str) -> str:
        return f"{self.url}/user/{self._user(name)}/api/contents/{quote(path)}"

    def file_exists(self, name: str, path: str) -> bool:
        response = self._request("GET", self._contents_url(name, path), params={"content": 0})
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise HubError(f"contents GET {path}: {response.status_code}", response.status_code)
        return True

    def read_notebook(self, name: str, path: str) -> dict:
        response = self._request(
            "GET", self._contents_url(name, path), params={"type": "notebook", "content": 1}
        )
        if response.status_code != 200:
            raise HubError(f"contents GET {path}: {response.status_code}", response.status_code)
        return response.json()["content"]

    def ensure_directory(self, name: str, path: str) -> None:
        # The contents API makes a missing folder and leaves an existing one: one request.
        if path:
            self._put(name, path, {"type": "directory"})

    def write_file(self, name: str, path: str, model: dict) -> None:
        self._put(name, path, model)

    def _put(self, name: str, path: str, model: dict) -> None:
        response = self._request("PUT", self._contents_url(name, path), json=model)
        if response.status_code not in (200, 201):
            raise HubError(f"contents PUT {path}: {response.status_code}", response.status_code)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", response.reason))
    except ValueError:
        return response.reason or str(response.status_code)
