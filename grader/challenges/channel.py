"""The parent side of one sandboxed child: start it, hand it code, time its calls from outside.

The child is a kernel of the grader's process sandbox (its bubblewrap view, namespaces, uid,
rlimits and control group; ``grader/sandbox/process.py``) that execs ``runner.py`` as a fresh
interpreter: no Jupyter protocol stays between the parent and the timed calls. The parent keeps
the only listening end of a Unix socket in the kernel's private run directory and a
shared-memory file (memfd) of its own per child: the reference and the entry never share one.
"""

from __future__ import annotations

import json
import mmap
import os
import select
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..device import Device
from ..limits import Limits
from ..sandbox import ProcessSandbox

RUNNER = Path(__file__).with_name("runner.py")
#: Largest message the parent accepts from a child (a reply is a few hundred bytes).
MAX_REPLY_BYTES = 1 << 20


class ChildFailed(Exception):
    """The child did something that ends its run; ``code`` is the reason code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class CallRecord:
    """One call as the parent saw it."""

    wall_s: float
    reported_s: float
    output: np.ndarray
    #: CPU seconds the child's processes used between the previous call's end and this call's start.
    idle_cpu_s: float
    idle_wall_s: float
    threads_after: int
    #: CPU seconds of the runner's main thread during the call (from /proc): the thread that
    #: called the entry cannot have computed for longer than the entry's own clock said.
    main_cpu_s: float = 0.0
    #: CPU seconds of all the child's threads during the call (from /proc): unlike the wall
    #: clock, a loaded machine does not inflate it.
    call_cpu_s: float = 0.0


@dataclass
class NullRecord:
    """One null call (the runner answers without calling the entry) as the parent saw it: the
    channel's own round trip, and the CPU seconds the child's processes used in it."""

    wall_s: float
    cpu_s: float


class Child:
    """One sandboxed interpreter running one piece of code (an entry or the reference)."""

    def __init__(
        self,
        sandbox: ProcessSandbox,
        source: str,
        entry: str,
        framework: str,
        device: str,
        memory_bytes: int,
        startup_timeout: float = 60.0,
    ) -> None:
        self.kernel = sandbox.start_kernel()
        self.memfd = os.memfd_create("kc-challenge", os.MFD_CLOEXEC)
        os.ftruncate(self.memfd, memory_bytes)
        self.memory = mmap.mmap(self.memfd, memory_bytes)
        self.sock: socket.socket | None = None
        self.runner_pid = -1
        self.tampered: list[str] = []
        self._last_end_cpu: float | None = None
        self._last_end_wall: float | None = None
        #: Idle time already seen before a null call since the last call (a null call is neither
        #: idle time nor part of a call: it is accounted for by its own record).
        self._idle_cpu = self._idle_wall = 0.0
        #: The last call's request and output size: a null call repeats them (``null_call``).
        self._last_request: dict = {}
        self._last_output_bytes = 0
        try:
            self._exec_runner(startup_timeout)
            socket.send_fds(self.sock, [b"M"], [self.memfd])
            hello = {
                "source": source, "entry": entry, "framework": framework, "device": device,
                "simulator": sandbox.device.simulator,
            }  # fmt: skip
            self._send(hello)
            reply = self._receive(startup_timeout)
            if not reply.get("ok"):
                # The entry is loaded in the process that answers, so it can write this reply
                # itself: the runner only ever says "load-failed" here, and any other code (above
                # all "sandbox-error", the platform's fault, whose quota the site gives back) is
                # the entry speaking.
                code = reply.get("code", "load-failed")
                code = code if code == "load-failed" else "channel-forged"
                raise ChildFailed(code, str(reply.get("error", "")))
            self.tampered = list(reply.get("tampered", []))
        except BaseException:
            self.close()
            raise

    # --- start-up ---------------------------------------------------------------------------

    def _exec_runner(self, timeout: float) -> None:
        """Have the jailed kernel replace itself by the runner, connected to our socket."""
        run_dir = Path(self.kernel.root) / "run"
        path = run_dir / "harness.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            slot = getattr(self.kernel, "slot", None)
            if slot is not None:
                os.chown(path, slot.uid, slot.gid)
            listener.listen(1)
            code = (
                "import json, os, socket, sys\n"
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                f"s.connect({str(path)!r})\n"
                "os.set_inheritable(s.fileno(), True)\n"
                "paths = [p for p in sys.path if p and os.path.isabs(p) and p != os.getcwd()]\n"
                f"src = {RUNNER.read_text(encoding='utf-8')!r}\n"
                "os.execv(sys.executable, [sys.executable, '-I', '-S', '-c', src,"
                " str(s.fileno()), json.dumps(paths)])\n"
            )
            msg_id = self.kernel.client.execute(code, store_history=False)
            self.sock = self._accept(listener, msg_id, timeout)
            # The runner's pid as the parent sees it (the kernel connected, then exec'd it).
            creds = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            self.runner_pid = struct.unpack("3i", creds)[0]
        finally:
            listener.close()
            path.unlink(missing_ok=True)
        # The Jupyter kernel is gone (its image replaced): nothing listens on those channels.
        try:
            self.kernel.client.stop_channels()
        except Exception:  # noqa: BLE001 - closing a client must not fail the run
            pass

    def _accept(self, listener: socket.socket, msg_id: str, timeout: float) -> socket.socket:
        """Wait for the runner to connect, watching the kernel: a cell that failed before the
        exec (its reply says so) or a kernel that died is reported at once, not at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([listener], [], [], 0.2)[0]:
                return listener.accept()[0]
            if not self.kernel.is_alive():
                raise ChildFailed("sandbox-error", self._why_gone("did not start"))
            try:
                reply = self.kernel.client.get_shell_msg(timeout=0)
            except Exception:  # noqa: BLE001 - queue.Empty: nothing yet
                continue
            content = reply.get("content", {})
            if reply["parent_header"].get("msg_id") == msg_id and content.get("status") == "error":
                detail = f"{content.get('ename')}: {content.get('evalue')}"
                raise ChildFailed("sandbox-error", f"the runner did not start: {detail}")
        raise ChildFailed("sandbox-error", self._why_gone("did not start in time"))

    # --- messages ---------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        data = json.dumps(message).encode()
        try:
            self.sock.sendall(struct.pack("!I", len(data)) + data)
        except OSError:
            raise ChildFailed("entry-crashed", self._why_gone("closed its channel")) from None

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise ChildFailed("timeout", "a call ran past its time limit")
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ChildFailed("entry-crashed", self._why_gone("ended during a call"))
            data += chunk
        return bytes(data)

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        (size,) = struct.unpack("!I", self._read_exactly(4, deadline))
        if size > MAX_REPLY_BYTES:
            raise ChildFailed("channel-forged", f"a reply of {size} bytes is not the runner's")
        try:
            reply = json.loads(self._read_exactly(size, deadline))
        except ValueError:
            raise ChildFailed("channel-forged", "a reply that is not JSON") from None
        if not isinstance(reply, dict):
            raise ChildFailed("channel-forged", "a reply that is not an object")
        return reply

    def _why_gone(self, what: str) -> str:
        time.sleep(0.2)  # let the supervisor report the exit
        reason = self.kernel.exit_reason() or "it closed the channel"
        if "memory" in reason:
            raise ChildFailed("out-of-memory", f"the entry {what}: {reason}")
        tail = self.kernel.log_tail(800).strip()
        return f"the child {what} ({reason})" + (f": {tail}" if tail else "")

    # --- timed calls ------------------------------------------------------------------------

    def call(
        self,
        inputs: tuple[np.ndarray, ...],
        out_capacity: int,
        timeout: float,
        flush: np.ndarray | None,
    ) -> CallRecord:
        """Write ``inputs`` to shared memory, flush the caches, then time one call with the
        parent's clock from the request to the reply."""
        layout, offset = [], 0
        for array in inputs:
            array = np.ascontiguousarray(array)
            end = offset + array.nbytes
            if end + out_capacity > len(self.memory):
                raise ChildFailed("grader-error", "inputs larger than the shared memory")
            self.memory[offset:end] = array.tobytes()
            layout.append([offset, array.dtype.str, list(array.shape)])
            offset = _align(end)
        if flush is not None:
            flush += 1  # touch every line of a buffer larger than the last-level cache
        self.refuse_unasked_bytes()
        cpu_start = self.cpu_seconds()
        main_start = self.main_thread_cpu()
        start = time.perf_counter()
        request = {"inputs": layout, "out": [offset, out_capacity]}
        self._send(request)
        reply = self._receive(timeout)
        wall = time.perf_counter() - start
        main_cpu = self.main_thread_cpu() - main_start
        # Copied at once: whatever the child writes to its memory later changes nothing here.
        output = self._output(reply, offset)
        self._last_request, self._last_output_bytes = request, output.nbytes
        cpu_end = self.cpu_seconds()
        idle_cpu, idle_wall = self._idle_since_last(cpu_start, start)
        self._idle_cpu = self._idle_wall = 0.0
        self._last_end_cpu, self._last_end_wall = cpu_end, time.perf_counter()
        self.tampered = sorted(set(self.tampered) | set(reply.get("tampered") or []))
        reported = reply.get("t")
        if not isinstance(reported, (int, float)) or isinstance(reported, bool):
            raise ChildFailed("channel-forged", "a reply without the runner's own time")
        return CallRecord(
            wall, float(reported), output, idle_cpu, idle_wall, self.threads(), main_cpu,
            max(0.0, cpu_end - cpu_start),
        )  # fmt: skip

    def null_call(self, timeout: float, flush: np.ndarray | None) -> NullRecord:
        """Time one request that the runner answers without calling the entry: all a call costs
        around the entry (both wake-ups, the framing, the runner's loop, the last call's arrays
        viewed and as many bytes written to the output's place as its output had), after the
        same cache flush as a call. No input is written: the last call's stay in the memory."""
        if flush is not None:
            flush += 1
        self.refuse_unasked_bytes()
        cpu_start = self.cpu_seconds()
        start = time.perf_counter()
        self._send({**self._last_request, "null": True, "echo": self._last_output_bytes})
        reply = self._receive(timeout)
        wall = time.perf_counter() - start
        cpu_end = self.cpu_seconds()
        if reply.get("ok") is not True or reply.get("null") is not True:
            raise ChildFailed("channel-forged", "a reply to a null call that is not the runner's")
        self.tampered = sorted(set(self.tampered) | set(reply.get("tampered") or []))
        idle_cpu, idle_wall = self._idle_since_last(cpu_start, start)
        self._idle_cpu, self._idle_wall = idle_cpu, idle_wall
        self._last_end_cpu, self._last_end_wall = cpu_end, time.perf_counter()
        return NullRecord(wall, max(0.0, cpu_end - cpu_start))

    def _idle_since_last(self, cpu_now: float, wall_now: float) -> tuple[float, float]:
        """CPU and wall seconds between the last call's end and now, null calls left out."""
        if self._last_end_cpu is None:
            return 0.0, 0.0
        return (
            self._idle_cpu + max(0.0, cpu_now - self._last_end_cpu),
            self._idle_wall + max(0.0, wall_now - self._last_end_wall),
        )

    def _output(self, reply: dict, offset: int) -> np.ndarray:
        if not reply.get("ok"):
            code = reply.get("code") or "entry-crashed"
            if code not in ("out-of-memory", "entry-crashed", "bad-output"):
                code = "channel-forged"
            raise ChildFailed(code, str(reply.get("error", ""))[-2000:])
        try:
            dtype = np.dtype(reply["dtype"])
            shape = tuple(int(n) for n in reply["shape"])
            if dtype.hasobject or any(n < 0 for n in shape):
                raise ValueError
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        except (KeyError, TypeError, ValueError):
            raise ChildFailed("channel-forged", "a reply that does not describe an array") from None
        if offset + size > len(self.memory):
            raise ChildFailed("channel-forged", "a reply pointing outside the shared memory")
        return np.frombuffer(self.memory, dtype=dtype, count=size // dtype.itemsize,
                             offset=offset).reshape(shape).copy()  # fmt: skip

    def refuse_unasked_bytes(self, wait: float = 0.0) -> None:
        """Between calls the runner only waits: bytes already waiting were not asked for (an
        entry writing to the channel itself, or a second reply to one request)."""
        if select.select([self.sock], [], [], wait)[0]:
            raise ChildFailed("channel-forged", "the child wrote to the channel between calls")

    # --- what the parent reads from outside -------------------------------------------------

    def _pids(self) -> list[int]:
        return _process_tree(self.kernel.proc.pid)

    def cpu_seconds(self) -> float:
        """CPU time of every thread of the child's processes, from /proc (not from the child)."""
        total = 0
        for pid in self._pids():
            for tid in _listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                        total += int(fh.read().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
        return total / 1e9

    def main_thread_cpu(self) -> float:
        try:
            with open(f"/proc/{self.runner_pid}/task/{self.runner_pid}/schedstat") as fh:
                return int(fh.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def threads(self) -> int:
        return sum(len(_listdir(f"/proc/{pid}/task")) for pid in self._pids())

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.kernel.close()
        try:
            self.memory.close()
        except BufferError:  # an array still views it: the parent copies outputs, so rare
            pass
        os.close(self.memfd)


def _align(offset: int) -> int:
    return (offset + 63) // 64 * 64


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        for tid in _listdir(f"/proc/{current}/task"):
            try:
                with open(f"/proc/{current}/task/{tid}/children") as fh:
                    pending.extend(int(c) for c in fh.read().split())
            except (OSError, ValueError):
                continue
    return found


def child_limits(memory_mb: int, cpu_seconds: float) -> Limits:
    """The sandbox limits of one child: the challenge's memory, CPU for the whole run."""
    return Limits(
        memory_bytes=memory_mb * 1024**2,
        cpu_seconds=max(10, int(cpu_seconds)),
        max_processes=64,
        preload=("numpy",),
    )


def make_sandbox(limits: Limits, device: Device, options: dict) -> ProcessSandbox:
    return ProcessSandbox(limits, device, **{"fork_server": False, **options})
