"""A kernel counts as started only once both its shell and its iopub channel reach the grader.

The two ZeroMQ channels connect separately. A shell reply alone does not prove the grader's
iopub subscription is in place; a first cell sent before it is would lose its busy, output and
idle messages and wait out its wall-clock limit (a trivial first cell of a freshly started kernel
"running past its bound"). No kernel here: a client whose iopub stays silent for a while.
"""

from __future__ import annotations

import queue
import time

import pytest

from grader.sandbox.base import SandboxError
from grader.sandbox.process import StartClock, _wait_ready


class _Client:
    def __init__(self, silent_requests: int) -> None:
        self.silent_requests = silent_requests
        self.requests: list[str] = []
        self._iopub: list[dict] = []

    def kernel_info(self) -> str:
        msg_id = f"info-{len(self.requests)}"
        self.requests.append(msg_id)
        # Until the subscription is in place, what the kernel publishes is lost.
        if len(self.requests) > self.silent_requests:
            self._iopub += [{"msg_type": "status"}, {"msg_type": "status"}]
        return msg_id

    def get_shell_msg(self, timeout: float) -> dict:
        return {"parent_header": {"msg_id": self.requests[-1]}}

    def get_iopub_msg(self, timeout: float) -> dict:
        if not self._iopub:
            # As a real channel does: an empty queue answers only after the timeout (without the
            # wait a fast machine asked a million times within the test's 2 s and got an answer).
            time.sleep(timeout)
            raise queue.Empty
        return self._iopub.pop(0)


class _Kernel:
    def __init__(self, client: _Client) -> None:
        self.client = client

    def is_alive(self) -> bool:
        return True

    def log_tail(self, limit: int = 4000) -> str:
        return ""


def test_ready_waits_for_the_iopub_channel_too():
    client = _Client(silent_requests=3)
    clock = StartClock()
    _wait_ready(_Kernel(client), timeout=30, clock=clock)
    assert len(client.requests) == 4  # asked again until iopub delivered
    assert client._iopub == []  # the start-up traffic is drained before the first cell
    assert set(clock.phases) == {"shell", "iopub"}


def test_a_kernel_whose_iopub_never_delivers_is_not_ready():
    with pytest.raises(SandboxError, match="did not answer"):
        _wait_ready(_Kernel(_Client(silent_requests=10**6)), timeout=2, clock=StartClock())
