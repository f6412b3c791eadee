"""The child side of the kernel harness: runs inside the sandbox, one entry (or the reference).

The parent (``channel.py``) starts a jailed kernel of the process sandbox and has it exec this
file's source as a fresh interpreter (``python -I -S -c SOURCE FD SYS_PATH``), keeping only one
inherited descriptor: a Unix socket to the parent. Everything here runs in the same process as
the code it calls, so nothing here is trusted by the parent: times are measured by the parent's
clock, outputs are checked in the parent, and what this file reports (its own time, which
well-known functions were replaced) is only cross-checked against what the parent saw.

Messages are 4-byte big-endian length + JSON. The first message carries the shared-memory
descriptor (SCM_RIGHTS); inputs arrive in that memory, the output goes back in it. A null call
(``"null": true``, with the last call's request) is answered without calling the entry: the
parent times it to learn the round trip of everything around the entry (``calibration.py``).
"""

import json
import mmap
import socket
import struct
import sys
import time
import traceback

#: Functions an entry might replace to fool a timer, a comparison or the statistics. The parent
#: rejects an entry after which any of them is no longer the original object.
WATCHED = (
    ("time", "perf_counter"), ("time", "perf_counter_ns"), ("time", "monotonic"),
    ("time", "monotonic_ns"), ("time", "time"), ("time", "process_time"),
    ("statistics", "median"), ("statistics", "mean"), ("statistics", "stdev"),
    ("numpy", "allclose"), ("numpy", "isclose"), ("numpy", "median"), ("numpy", "array_equal"),
    ("numpy.testing", "assert_allclose"), ("builtins", "abs"), ("builtins", "max"),
)  # fmt: skip


def _read_exactly(sock, size):
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _read(sock):
    (size,) = struct.unpack("!I", _read_exactly(sock, 4))
    return json.loads(_read_exactly(sock, size))


def _send(sock, message):
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


#: Watched only when the runner imported them itself (a torch or a CUDA challenge).
WATCHED_IF_LOADED = (
    ("torch.cuda", "Event"), ("torch.cuda", "synchronize"), ("torch", "allclose"),
    ("numba.cuda", "event"), ("numba.cuda", "event_elapsed_time"), ("numba.cuda", "synchronize"),
)  # fmt: skip


def _snapshot():
    import importlib

    found = {}
    for module, name in WATCHED + WATCHED_IF_LOADED:
        try:
            if (module, name) in WATCHED_IF_LOADED and module not in sys.modules:
                continue
            found[f"{module}.{name}"] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return found


def _tampered(snapshot):
    changed = []
    for key, original in snapshot.items():
        module, name = key.rsplit(".", 1)
        if getattr(sys.modules.get(module), name, None) is not original:
            changed.append(key)
    return changed


class Device:
    """Moves arrays to where the entry computes and times the call there."""

    def __init__(self, framework, device, simulator):
        self.framework, self.device, self.simulator = framework, device, simulator
        self.events = device == "cuda" and not simulator
        self._flush = None
        if framework == "torch":
            import torch

            self.torch = torch
        if device == "cuda":
            from numba import cuda

            self.cuda = cuda

    def to_device(self, array):
        if self.framework == "torch":
            tensor = self.torch.from_numpy(array)
            return tensor.cuda() if self.device == "cuda" else tensor
        if self.device == "cuda":
            return self.cuda.to_device(array)
        return array

    def to_host(self, result):
        import numpy as np

        if self.framework == "torch" and isinstance(result, self.torch.Tensor):
            return result.detach().cpu().numpy()
        if hasattr(result, "copy_to_host"):
            return result.copy_to_host()
        return np.asarray(result)

    def flush_l2(self):
        """Write a device buffer twice the size of the L2 cache (CUDA only; the parent flushes
        the CPU's caches itself)."""
        if not self.events:
            return
        if self.framework == "torch":
            if self._flush is None:
                size = 2 * self.torch.cuda.get_device_properties(0).L2_cache_size
                self._flush = self.torch.empty(max(size, 1 << 24), dtype=self.torch.uint8,
                                               device="cuda")  # fmt: skip
            self._flush.zero_()
        else:
            import numpy as np

            if self._flush is None:
                attrs = self.cuda.get_current_device()
                size = 2 * getattr(attrs, "L2_CACHE_SIZE", 1 << 23)
                self._zeros = np.zeros(max(size, 1 << 24), dtype=np.uint8)
                self._flush = self.cuda.to_device(self._zeros)
            self._flush.copy_to_device(self._zeros)  # every line of L2 written over
        self.synchronize()

    def synchronize(self):
        if self.device != "cuda":
            return
        if self.framework == "torch":
            self.torch.cuda.synchronize()
        else:
            self.cuda.synchronize()

    def timed_call(self, function, args):
        """Call, and return (result, seconds by the device's own clock). The clocks are looked
        up at call time on purpose: an entry that replaced them reports times the parent's
        clock contradicts."""
        if not self.events:
            start = time.perf_counter()
            result = function(*args)
            return result, time.perf_counter() - start
        if self.framework == "torch":
            begin = self.torch.cuda.Event(enable_timing=True)
            end = self.torch.cuda.Event(enable_timing=True)
            begin.record()
            result = function(*args)
            end.record()
            end.synchronize()
            seconds = begin.elapsed_time(end) / 1e3
        else:
            begin, end = self.cuda.event(timing=True), self.cuda.event(timing=True)
            begin.record()
            result = function(*args)
            end.record()
            end.synchronize()
            seconds = self.cuda.event_elapsed_time(begin, end) / 1e3
        # Work on other streams is not in the events: the whole device must be idle before the
        # output is read (the parent's clock sees this wait; a gap between the two is a cheat).
        self.synchronize()
        return result, seconds


def _load(message, snapshot):
    import types

    module = types.ModuleType("submission")
    module.__file__ = "<entry>"
    sys.modules["submission"] = module
    code = compile(message["source"], "<entry>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - running the entry is this process's purpose
    function = getattr(module, message["entry"], None)
    if not callable(function):
        raise LookupError(f"the entry defines no function {message['entry']}()")
    return function


def _call(message, memory, function, device):
    import numpy as np

    arrays = [
        np.ndarray(tuple(shape), dtype=np.dtype(dtype), buffer=memory, offset=offset)
        for offset, dtype, shape in message["inputs"]
    ]
    args = [device.to_device(array) for array in arrays]
    device.flush_l2()
    result, seconds = device.timed_call(function, args)
    output = device.to_host(result)
    out_offset, capacity = message["out"]
    if output.dtype.hasobject or output.nbytes > capacity:
        return {"ok": False, "code": "bad-output", "error": "the output is not a numeric array "
                f"of at most {capacity} bytes ({output.dtype}, {output.shape})"}  # fmt: skip
    target = np.ndarray(output.shape, dtype=output.dtype, buffer=memory, offset=out_offset)
    target[...] = output
    return {"ok": True, "dtype": output.dtype.str, "shape": list(output.shape), "t": seconds}


def _null(message, memory):
    """A null call: what a call does around the entry (the request's arrays viewed, as many
    bytes as the last output written to the output's place), the entry not called."""
    import numpy as np

    for offset, dtype, shape in message.get("inputs", ()):
        np.ndarray(tuple(shape), dtype=np.dtype(dtype), buffer=memory, offset=offset)
    if message.get("out"):
        out_offset, capacity = message["out"]
        size = max(0, min(int(message.get("echo", 0)), capacity, len(memory) - out_offset))
        np.ndarray((size,), dtype=np.uint8, buffer=memory, offset=out_offset).fill(0)
    return {"ok": True, "null": True}


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    sys.path[:] = json.loads(sys.argv[2])
    _, fds, _, _ = socket.recv_fds(sock, 1, 1)
    memory = mmap.mmap(fds[0], 0)
    hello = _read(sock)
    try:
        device = Device(hello["framework"], hello["device"], hello["simulator"])
        snapshot = _snapshot()
        function = _load(hello, snapshot)
    except BaseException:  # noqa: BLE001 - the parent reports it as the entry's failure
        _send(sock, {"ok": False, "code": "load-failed", "error": traceback.format_exc()[-3000:]})
        return
    _send(sock, {"ok": True, "tampered": _tampered(snapshot)})
    while True:
        try:
            message = _read(sock)
        except EOFError:
            return
        try:
            if message.get("null"):
                reply = _null(message, memory)
            else:
                reply = _call(message, memory, function, device)
        except MemoryError:
            reply = {"ok": False, "code": "out-of-memory", "error": "MemoryError"}
        except BaseException:  # noqa: BLE001
            reply = {"ok": False, "code": "entry-crashed", "error": traceback.format_exc()[-3000:]}
        reply["tampered"] = _tampered(snapshot)
        _send(sock, reply)


if __name__ == "__main__":
    main()
