"""An open-loop HTTP/1.1 load generator: requests leave at fixed times, whatever came back.

Request i of a phase is due at `start + i / rate`. Its latency is measured from that due time to
the last byte of the response, so a server that falls behind cannot hide it by slowing the
client down (a closed loop, where each client waits for its previous answer, would send fewer
requests exactly when the server is slow). Keep-alive connections are reused from a pool; a
request that finds none idle opens a new one. If this client itself falls behind, the delay is
counted in the latency too and reported separately as `lag` (due time to the moment it was sent).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

#: A request still unanswered after this long counts as an error (and its latency as this long).
TIMEOUT_S = 10.0


@dataclass
class Sample:
    path: str
    due: float
    lag: float = 0.0
    latency: float = 0.0
    status: int = 0
    error: str = ""


@dataclass
class Phase:
    rate: float
    duration: float
    samples: list[Sample] = field(default_factory=list)

    def ok(self, path: str | None = None) -> list[float]:
        return [
            s.latency
            for s in self.samples
            if s.status == 200 and not s.error and (path is None or s.path == path)
        ]

    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200 or s.error]

    def summary(self, path: str | None = None) -> dict:
        chosen = [s for s in self.samples if path is None or s.path == path]
        latencies = sorted(s.latency for s in chosen)  # errors count with their latency
        lags = sorted(s.lag for s in chosen)
        return {
            "rate": self.rate,
            "requests": len(chosen),
            "errors": sum(1 for s in chosen if s.status != 200 or s.error),
            "p50_ms": 1000 * percentile(latencies, 0.50),
            "p95_ms": 1000 * percentile(latencies, 0.95),
            "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_ms": 1000 * (latencies[-1] if latencies else math.nan),
            "client_lag_p95_ms": 1000 * percentile(lags, 0.95),
        }


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Pool:
    """Idle keep-alive connections to one host:port."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {host}:{port}\r\n{extra}\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _connect(self):
        return await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> int:
        """One GET; returns the status. A reused connection the server closed meanwhile (its
        keep-alive ran out) is retried once on a fresh one, as browsers do."""
        reused = bool(self.idle)
        conn = self.idle.pop() if reused else await self._connect()
        try:
            status, keep = await self._exchange(conn, path)
        except (ConnectionError, asyncio.IncompleteReadError):
            conn[1].close()
            if not reused:
                raise
            conn = await self._connect()
            status, keep = await self._exchange(conn, path)
        if keep:
            self.idle.append(conn)
        else:
            conn[1].close()
        return status

    async def _exchange(self, conn, path: str) -> tuple[int, bool]:
        reader, writer = conn
        writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.head)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        elif status not in (204, 304):
            await reader.read()  # until the server closes
            return status, False
        return status, headers.get("connection", "").lower() != "close"

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _one(pool: Pool, sample: Sample, limit: asyncio.Semaphore) -> None:
    loop = asyncio.get_running_loop()
    async with limit:
        sample.lag = loop.time() - sample.due
        try:
            remaining = max(0.001, sample.due + TIMEOUT_S - loop.time())
            sample.status = await asyncio.wait_for(pool.get(sample.path), remaining)
        except TimeoutError:
            sample.error = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            sample.error = f"{type(exc).__name__}: {exc}"
    sample.latency = min(loop.time() - sample.due, TIMEOUT_S)


async def _drive(
    host: str,
    port: int,
    paths: list[str],
    rate: float,
    duration: float,
    headers: dict[str, str],
    max_connections: int,
    tick=None,
) -> Phase:
    loop = asyncio.get_running_loop()
    pool = Pool(host, port, headers)
    limit = asyncio.Semaphore(max_connections)
    phase = Phase(rate, duration)
    total = max(1, round(rate * duration))
    start = loop.time() + 0.02
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sample = Sample(paths[i % len(paths)], due)
        phase.samples.append(sample)
        tasks.append(asyncio.ensure_future(_one(pool, sample, limit)))
        if tick:
            tick()
    await asyncio.gather(*tasks)
    pool.close()
    return phase


def run_phase(
    host: str,
    port: int,
    paths: list[str],
    rate: float,
    duration: float,
    headers: dict[str, str] | None = None,
    max_connections: int = 256,
    tick=None,
) -> Phase:
    """Send `rate` GETs per second for `duration` seconds, cycling through `paths`."""
    began = time.monotonic()
    phase = asyncio.run(
        _drive(host, port, paths, rate, duration, headers or {}, max_connections, tick)
    )
    phase.wall = time.monotonic() - began  # type: ignore[attr-defined]
    return phase
