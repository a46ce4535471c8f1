"""An open-loop HTTP load generator: requests leave at a fixed rate whatever the server does.

A closed-loop tool (``wrk``, a pool of clients each waiting for its answer
before asking again) slows down with the server it measures, so queueing never
shows in its latencies (coordinated omission). Here request ``i`` is due at
``start + i / rate`` and its latency runs from that due time, not from when it
was actually written: a server that stalls for a second shows a second of
latency on every request that fell due during the stall. A request never
waits for a free connection either; when none is idle a new one is opened.

The client is a few lines of HTTP/1.1 over asyncio streams (keep-alive, one
request at a time per connection, ``Content-Length`` bodies as uvicorn sends
them) so that it costs the two-core machine under test as little CPU as
possible; how late the generator itself was in writing requests is reported
beside the figures, so a loaded client cannot pass for a slow server.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

TIMEOUT = 30.0  # seconds a request may take before it counts as an error


@dataclass
class Outcome:
    """What a run measured: latencies from the due time, errors, and the client's own cost."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    service: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    send_lag: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    connections: int = 0
    bytes_read: int = 0
    # (seconds into the run, latency) of every answer, to see when the slow ones came.
    finished: list[tuple[float, float]] = field(default_factory=list)

    def p99_by_slice(self, seconds: float) -> list[float]:
        """The p99 latency of the answers finished in each ``seconds`` of the run."""
        slices: dict[int, list[float]] = {}
        for at, latency in self.finished:
            slices.setdefault(int(at // seconds), []).append(latency)
        return [percentile(slices[n], 0.99) for n in sorted(slices)]

    @property
    def achieved(self) -> float:
        """Successful answers per second of the run."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


class _Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, request: bytes) -> tuple[int, int, bool]:
        """(status, body bytes, whether the connection may be reused) of one request."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, keep = 0, True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                keep = False
            elif name == "transfer-encoding":
                raise ValueError("chunked answers are not supported by this client")
        await self.reader.readexactly(length)
        return status, length, keep

    def close(self) -> None:
        self.writer.close()


async def _run(
    host: str, port: int, paths: Sequence[str], headers: dict[str, str], rate: float, count: int
) -> Outcome:
    loop = asyncio.get_running_loop()
    outcome = Outcome()
    idle: list[_Connection] = []
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for path in paths
    ]

    async def connect() -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        outcome.connections += 1
        return _Connection(reader, writer)

    async def ask(connection: _Connection, request: bytes) -> tuple[int, int, bool]:
        return await asyncio.wait_for(connection.get(request), TIMEOUT)

    async def one(due: float, request: bytes) -> None:
        reused = idle.pop() if idle else None
        connection = reused
        try:
            if connection is None:
                connection = await connect()
            written = loop.time()
            outcome.send_lag.append(written - due)
            try:
                status, size, keep = await ask(connection, request)
            except asyncio.IncompleteReadError as closed:
                # A kept-alive connection the server closed while it was idle (uvicorn
                # closes them after 5 s): nothing was answered, so ask again on a new
                # one, as every HTTP client does; the latency still runs from ``due``.
                if reused is None or closed.partial:
                    raise
                connection.close()
                connection = await connect()
                status, size, keep = await ask(connection, request)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            outcome.errors[type(exc).__name__] += 1
            if connection is not None:
                connection.close()
            return
        done = loop.time()
        outcome.finished.append((done - start, done - due))
        outcome.bytes_read += size
        if status == 200:
            outcome.latencies.append(done - due)
            outcome.service.append(done - written)
        else:
            outcome.errors[f"HTTP {status}"] += 1
        if keep:
            idle.append(connection)
        else:
            connection.close()

    cpu = time.process_time()
    start = loop.time() + 0.05
    tasks = []
    for index in range(count):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, requests[index % len(requests)])))
        outcome.sent += 1
    await asyncio.gather(*tasks)
    outcome.elapsed = loop.time() - start
    outcome.client_cpu = time.process_time() - cpu
    for connection in idle:
        connection.close()
    return outcome


def run(
    host: str,
    port: int,
    paths: Sequence[str],
    *,
    rate: float,
    duration: float,
    headers: dict[str, str] | None = None,
) -> Outcome:
    """GET ``paths`` in turn at ``rate`` requests/s for ``duration`` seconds, open loop."""
    count = max(1, round(rate * duration))
    return asyncio.run(_run(host, port, paths, headers or {}, rate, count))
