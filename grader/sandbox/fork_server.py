"""The grader's side of the sandbox fork server (see _launcher.py, ``--fork-server``).

A kernel started by exec pays for importing ipykernel, numpy and numba every time: about a
second of CPU, which on a small machine is a large part of grading one notebook. The fork server
pays it once per worker; each kernel is a fork of it that builds its own jail before it runs any
submitted code.

Kernels forked by the server are its children, not the grader's, so the grader cannot wait for
them: the server writes each exit status to a file, and ``ForkedProcess`` offers the part of
``subprocess.Popen`` that the sandbox uses on top of that file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from ._launcher import KernelSpec, ServerSpec
from .base import SandboxError

LAUNCHER = Path(__file__).with_name("_launcher.py")


class ForkedProcess:
    """A kernel forked by the fork server: ``poll``, ``wait`` and ``kill`` like ``Popen``."""

    #: How long an exited kernel may go without a status before the server is presumed gone.
    STATUS_GRACE = 2.0

    def __init__(self, pid: int, status_path: Path) -> None:
        self.pid = pid
        self.status_path = status_path
        self.returncode: int | None = None
        self._exited_at: float | None = None
        try:
            # Readable once the process has exited, even when it is not our child.
            self._pidfd: int | None = os.pidfd_open(pid)
        except OSError:
            self._pidfd = None  # already exited and reaped: its status is on its way

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            self.returncode = int(self.status_path.read_text())
        except (OSError, ValueError):
            if not self._has_exited():
                return None
            # Exited but not reported: the server has not reaped it yet, or the server died
            # and init reaped it. After a grace period it counts as killed.
            now = time.monotonic()
            self._exited_at = self._exited_at or now
            if now - self._exited_at < self.STATUS_GRACE:
                return None
            self.returncode = -signal.SIGKILL
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return self.returncode

    def _has_exited(self) -> bool:
        if self._pidfd is None:
            return True
        readable, _, _ = select.select([self._pidfd], [], [], 0)
        return bool(readable)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def kill(self) -> None:
        # The pid is only ours while no exit status was written: never signal a reused pid.
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class ForkServer:
    """One fork server process per sandbox, started on first use and restarted if it dies."""

    def __init__(self, command: list[str], spec: ServerSpec, log_path: Path) -> None:
        self.command = command
        self.spec = spec
        self.log_path = log_path
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None

    def _start(self, timeout: float) -> None:
        ours, theirs = socket.socketpair()
        their_fd = theirs.fileno()
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [*self.command, "--fork-server"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(their_fd,),
                start_new_session=True,
                env=self.spec.env,
            )
        theirs.close()
        assert self._proc.stdin is not None
        spec = dataclasses.replace(self.spec, control_fd=their_fd)
        self._proc.stdin.write(spec.to_json().encode())
        self._proc.stdin.close()
        self._sock = ours
        ours.settimeout(timeout)
        self._exchange(None, "ready", "the sandbox fork server did not start")

    def _exchange(self, message: str | None, expect: str, failure: str) -> dict:
        """Send ``message`` (if any) and read the reply, which must hold ``expect``. On any
        failure the server is closed (the next kernel starts a new one) and SandboxError says
        why."""
        assert self._sock is not None
        try:
            if message is not None:
                _send(self._sock, message)
            reply = _receive(self._sock)
        except OSError as exc:
            self.close()
            raise SandboxError(f"{failure}: {exc}") from exc
        if reply is None or expect not in reply:
            self.close()
            raise SandboxError(f"{failure}: {self._log_tail()}")
        return reply

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_bytes()[-1500:].decode("utf-8", "replace")
        except OSError:
            return ""

    def fork(self, spec: KernelSpec, status_path: Path, timeout: float) -> ForkedProcess:
        """Fork a kernel for ``spec`` (its ``status_path`` is where its exit status goes)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.close()
                self._start(timeout)
            reply = self._exchange(
                dataclasses.replace(spec, status_path=str(status_path)).to_json(),
                "pid",
                "the sandbox fork server failed",
            )
            return ForkedProcess(reply["pid"], status_path)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()  # the server exits on end of file
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


def _send(sock: socket.socket, message: str) -> None:
    data = message.encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _receive(sock: socket.socket) -> dict | None:
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    (size,) = struct.unpack("!I", header)
    data = _read_exactly(sock, size)
    return None if data is None else json.loads(data)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
