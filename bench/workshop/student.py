"""One simulated student, over HTTP only, as a browser would do it: log in to the site, launch a
session and follow its progress stream, open JupyterLab (the hub logs in through the site), run
a cell in a kernel over the Jupyter REST and websocket APIs, submit from the session, stop.

Each step is timed; a step that fails records its error and ends this student's run."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import websocket

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SESSION_ID = re.compile(r"/sessions/(\d+)/(?:stop|events|status)")
CELL = "sum(i * i for i in range(1000))"
CELL_RESULT = str(sum(i * i for i in range(1000)))
LIVE = {"starting", "running"}


class StepError(RuntimeError):
    pass


@dataclass
class Outcome:
    name: str
    seconds: dict[str, float] = field(default_factory=dict)
    error: str = ""
    failed_step: str = ""


def spawn_began(hub: str, token: str, name: str) -> float:
    """When the hub began to spawn the user's server (its `started`), as a Unix time."""
    user = requests.get(
        f"{hub}/hub/api/users/{name}", headers={"Authorization": f"token {token}"}, timeout=60
    ).json()
    started = user["servers"][""]["started"]
    return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()


class Student:
    def __init__(
        self,
        site: str,
        hub: str,
        name: str,
        password: str,
        wait_graded: bool,
        hub_token: str = "",
    ) -> None:
        self.site, self.hub, self.name, self.password = site, hub, name, password
        self.hub_token = hub_token
        self.wait_graded = wait_graded
        self.http = requests.Session()
        self.outcome = Outcome(name)
        self.session_id = 0
        self.lab_url = ""
        self.submission_url = ""

    # --- running the steps -------------------------------------------------------------------
    def run(self, on_step: Callable[[], None], timeout: float) -> Outcome:
        self.deadline = time.monotonic() + timeout
        steps = [
            ("login", self.login),
            ("launch", self.launch),
            ("open_lab", self.open_lab),
            ("run_cell", self.run_cell),
            ("submit", self.submit),
        ]
        if self.wait_graded:
            steps.append(("graded", self.graded))
        steps.append(("stop", self.stop))
        for step, action in steps:
            started = time.perf_counter()
            try:
                action()
            except Exception as exc:  # every error is reported, whatever raised it
                self.outcome.failed_step = step
                self.outcome.error = f"{type(exc).__name__}: {exc}"[:500]
                self._stop_anyway(step)
                return self.outcome
            self.outcome.seconds[step] = time.perf_counter() - started
            on_step()
        return self.outcome

    def _stop_anyway(self, failed: str) -> None:
        """A student whose run broke still stops their session, so the bench leaves none behind."""
        if failed != "stop" and self.session_id:
            try:
                self.stop()
            except Exception:
                pass

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StepError("the student's time ran out")
        return left

    def _get(self, url: str, **kwargs) -> requests.Response:
        response = self.http.get(url, timeout=min(120, self._left()), **kwargs)
        if response.status_code >= 400:
            raise StepError(f"GET {urlsplit(url).path} answered {response.status_code}")
        return response

    def _post_form(self, page: requests.Response, url: str, data: dict) -> requests.Response:
        token = CSRF.search(page.text)
        if not token:
            raise StepError(f"no CSRF token on {urlsplit(page.url).path}")
        response = self.http.post(
            url,
            data={"csrfmiddlewaretoken": token.group(1), **data},
            headers={"Referer": page.url},
            timeout=min(120, self._left()),
        )
        if response.status_code >= 400:
            raise StepError(f"POST {urlsplit(url).path} answered {response.status_code}")
        return response

    # --- the steps ---------------------------------------------------------------------------
    def login(self) -> None:
        page = self._get(f"{self.site}/accounts/login/")
        done = self._post_form(page, page.url, {"username": self.name, "password": self.password})
        if "/accounts/login/" in done.url:
            raise StepError("the site did not accept the login")

    def launch(self) -> None:
        """From the Launch button to the page offering JupyterLab."""
        page = self._get(f"{self.site}/sessions/")
        profile = re.search(r'name="profile" value="([^"]+)"', page.text)
        if not profile:
            raise StepError("no profile to launch on the sessions page")
        clicked, clicked_at = time.perf_counter(), time.time()
        answer = self._post_form(
            page, f"{self.site}/sessions/launch/", {"profile": profile.group(1)}
        )
        # How long the Launch request itself took to answer (it must not wait on the spawn).
        self.outcome.seconds["launch_request"] = time.perf_counter() - clicked
        found = SESSION_ID.search(answer.text)
        if not found:
            error = re.search(r'<li class="error">(.*?)</li>', answer.text, re.S)
            raise StepError(f"no session after Launch: {error.group(1) if error else '?'}")
        self.session_id = int(found.group(1))
        self.lab_url = self._follow_spawn()
        if self.hub_token:  # where the time went: in the hub's queue, or after its spawn began
            began = spawn_began(self.hub, self.hub_token, self.name)
            self.outcome.seconds["launch_queue"] = began - clicked_at
            self.outcome.seconds["launch_start"] = time.time() - began

    def _follow_spawn(self) -> str:
        """The page's event stream until `done`; when the site says `busy`, poll the status."""
        events = f"{self.site}/sessions/{self.session_id}/events"
        with self.http.get(events, stream=True, timeout=(30, min(300, self._left()))) as stream:
            if stream.status_code != 200:
                raise StepError(f"event stream answered {stream.status_code}")
            event = ""
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "done":
                    data = json.loads(line[6:])
                    if data.get("status") == "starting":
                        break  # the stream's own time ran out, not the spawn's: poll
                    if data.get("status") != "running" or not data.get("url"):
                        raise StepError(f"spawn ended {data.get('status')}: {data.get('message')}")
                    return self._absolute(data["url"])
                elif line.startswith("data: ") and event == "busy":
                    break
        return self._poll_status()

    def _poll_status(self) -> str:
        url = f"{self.site}/sessions/{self.session_id}/status"
        while True:
            self._left()
            fragment = self._get(url).text
            status = re.search(r'data-status="(\w+)"', fragment)
            link = re.search(r'id="open-lab" href="([^"]+)"', fragment)
            if status and status.group(1) == "running" and link:
                return self._absolute(link.group(1))
            if status and status.group(1) not in LIVE:
                raise StepError(f"spawn ended {status.group(1)}")
            time.sleep(1)

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.hub}{url}"

    def open_lab(self) -> None:
        """JupyterLab's page: the hub logs the student in through the site (one OAuth round)."""
        page = self._get(self.lab_url)
        if "jupyter-config-data" not in page.text:
            raise StepError(f"not JupyterLab at {urlsplit(page.url).path}")

    def run_cell(self) -> None:
        """A kernel (REST), one cell over its websocket, its result checked; the kernel deleted."""
        base = f"{self.hub}/user/{self.name}"
        xsrf = self.http.cookies.get("_xsrf", path=f"/user/{self.name}/") or self.http.cookies.get(
            "_xsrf"
        )
        headers = {"X-XSRFToken": xsrf or "", "Referer": self.lab_url}
        made = self.http.post(
            f"{base}/api/kernels", json={}, headers=headers, timeout=min(120, self._left())
        )
        if made.status_code != 201:
            raise StepError(f"kernel start answered {made.status_code}: {made.text[:200]}")
        kernel = made.json()["id"]
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        ws_url = base.replace("http://", "ws://", 1) + f"/api/kernels/{kernel}/channels"
        socket = websocket.create_connection(
            ws_url,
            header=[f"Cookie: {cookie}"],
            origin=self.hub,
            timeout=min(120, self._left()),
        )
        try:
            self._execute(socket)
        finally:
            socket.close()
            self.http.delete(f"{base}/api/kernels/{kernel}", headers=headers, timeout=30)

    def _execute(self, socket: websocket.WebSocket) -> None:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "username": self.name,
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
            "date": datetime.now(UTC).isoformat(),
        }
        content = {"code": CELL, "silent": False, "store_history": True, "user_expressions": {}}
        socket.send(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": {**content, "allow_stdin": False, "stop_on_error": True},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        result, replied = None, False
        while not (replied and result is not None):
            self._left()
            message = json.loads(socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            if kind == "execute_result":
                result = message["content"]["data"].get("text/plain")
            elif kind == "error":
                raise StepError(f"the cell failed: {message['content'].get('ename')}")
            elif kind == "execute_reply":
                replied = True
                if message["content"]["status"] != "ok":
                    raise StepError(f"execute_reply {message['content']['status']}")
        if result != CELL_RESULT:
            raise StepError(f"the cell printed {result!r}, not {CELL_RESULT}")

    def submit(self) -> None:
        """Submit from the session: the site reads the delivered notebook back from the server."""
        home = self._get(f"{self.site}/")
        cohort = re.search(r'href="(/cohorts/\d+/)"', home.text)
        if not cohort:
            raise StepError("no cohort on the home page")
        cohort_page = self._get(f"{self.site}{cohort.group(1)}")
        assignment = re.search(r'href="(/cohorts/\d+/assignments/[\w-]+/)"', cohort_page.text)
        if not assignment:
            raise StepError("no assignment on the cohort page")
        page = self._get(f"{self.site}{assignment.group(1)}")
        action = re.search(r'action="([^"]+/submit-from-session)"', page.text)
        if not action:
            raise StepError("no 'Submit from my session' form")
        answer = self._post_form(page, f"{self.site}{action.group(1)}", {})
        if not re.search(r"/submissions/\d+/$", answer.url):
            error = re.search(r'<li class="error">(.*?)</li>', answer.text, re.S)
            raise StepError(f"submit refused: {error.group(1) if error else answer.url}")
        self.submission_url = answer.url

    def graded(self) -> None:
        while True:
            status = re.search(r'data-status="(\w+)"', self._get(self.submission_url).text)
            if status and status.group(1) == "graded":
                return
            if status and status.group(1) == "failed":
                raise StepError("grading failed")
            time.sleep(1)

    def stop(self) -> None:
        """Stop on the sessions page, until the site shows the session ended."""
        page = self._get(f"{self.site}/sessions/")
        self._post_form(page, f"{self.site}/sessions/{self.session_id}/stop", {})
        url = f"{self.site}/sessions/{self.session_id}/status"
        while True:
            status = re.search(r'data-status="(\w+)"', self._get(url).text)
            if status and status.group(1) not in LIVE | {"stopping"}:
                return
            time.sleep(0.5)
