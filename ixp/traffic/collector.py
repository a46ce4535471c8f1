"""``ixp traffic collect``: the long-running sFlow collector.

One asyncio UDP endpoint on ``traffic_listen``:``traffic_port`` (6343) hands every
datagram from an allowed agent (``traffic_agents``, checked against the UDP source
and again against the agent address inside) to an ``Aggregator``. Once a 5-minute
bucket has ended and ``traffic_flush_delay_seconds`` have passed for late datagrams,
it is closed and written in a worker thread while the loop keeps receiving: MACs
mapped to members, one transaction (``ixp.traffic.store``), then the rollup
(``ixp.traffic.rollup``) and the unknown-MAC alerts (``ixp.traffic.alerts``), then
one log line and the Prometheus figures per agent.

Nothing a datagram holds stops the collector: the aggregator counts a malformed
one per agent and goes on. A database that cannot be written keeps the bucket in
memory and tries again after the next one (up to an hour of buckets; older ones are
dropped and logged). SIGTERM or SIGINT writes the bucket in progress, partial, and
stops; a collector started again within the same five minutes adds the rest to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ixp import db
from ixp.errors import IxpError, ValidationError
from ixp.models.base import utcnow
from ixp.settings import Settings
from ixp.traffic import alerts, rollup, store
from ixp.traffic.buckets import BUCKET_SECONDS, Aggregator, Bucket
from ixp.traffic.metrics import TrafficMetrics

log = logging.getLogger(__name__)

# Buckets kept for a database that cannot be written: an hour's worth.
_BACKLOG = 12
# Sources whose refusal was logged; beyond this many, refusals are only counted.
_LOGGED_REFUSALS = 1000
_DAY = 86400


class AgentList:
    """The allow-list of ``traffic_agents``: addresses or networks, IPv4 or IPv6."""

    def __init__(self, entries: list[str]) -> None:
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValidationError(
                    "settings: traffic_agents", entry, "is not an address or a network"
                ) from None
        if not networks:
            raise ValidationError(
                "settings: traffic_agents",
                entries,
                "is empty: list the switches allowed to send sFlow (addresses or networks)",
            )
        self.networks = tuple(networks)
        self._allowed: set[str] = set()

    def allows(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether the address is inside one of the networks."""
        return any(address in network for network in self.networks)

    def allows_source(self, host: str) -> bool:
        """A UDP source address as the socket gives it (IPv4 mapped into IPv6 on a dual-stack
        socket). Allowed ones are remembered; refused ones are not, so spoofed sources
        cannot grow the memory."""
        if host in self._allowed:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not self.allows(address):
            return False
        self._allowed.add(host)
        return True

    def allows_agent(self, packed: bytes) -> bool:
        """An agent address from a datagram header (4 or 16 raw bytes)."""
        return self.allows(ipaddress.ip_address(packed))


def source_text(host: str) -> str:
    """The UDP source as the aggregator keeps it: an IPv4 address mapped into IPv6 unmapped."""
    if host.startswith("::ffff:") and "." in host:
        return host[7:]
    return host


class _Receiver(asyncio.DatagramProtocol):
    """Hands each allowed datagram to the aggregator; counts and logs refused ones."""

    def __init__(self, aggregator: Aggregator, agents: AgentList, metrics: TrafficMetrics) -> None:
        self.aggregator = aggregator
        self.agents = agents
        self.metrics = metrics
        self.refused_sources: set[str] = set()
        self.failures = 0

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        host = str(addr[0])
        if not self.agents.allows_source(host):
            self.metrics.refused.inc()
            if host not in self.refused_sources and len(self.refused_sources) < _LOGGED_REFUSALS:
                self.refused_sources.add(host)
                log.warning("sFlow from %s refused: not in traffic_agents", host)
            return
        try:
            self.aggregator.add(data, source_text(host), time.time())
        except Exception:  # add() never raises by design; should a bug, collection goes on
            self.failures += 1
            self.metrics.receive_failures.inc()
            if self.failures <= 10:
                log.exception("datagram from %s could not be counted", host)

    def error_received(self, exc: Exception) -> None:
        log.warning("sFlow socket error: %s", exc)


def open_socket(listen: str, port: int, buffer_bytes: int) -> socket.socket:
    """The UDP socket: dual-stack when listening on an IPv6 address, with a large receive
    buffer (a burst of datagrams must wait there while a bucket is closed)."""
    try:
        address = ipaddress.ip_address(listen)
    except ValueError:
        raise ValidationError("settings: traffic_listen", listen, "is not an IP address") from None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2
        if got < buffer_bytes:
            log.warning(
                "receive buffer is %d bytes, not %d: raise net.core.rmem_max", got, buffer_bytes
            )
        sock.bind((listen, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ValidationError(
            "settings: traffic_listen", f"{listen} port {port}", f"cannot be bound: {exc.strerror}"
        ) from None
    return sock


@dataclass(frozen=True)
class Written:
    """What writing one bucket did."""

    bucket: datetime
    pairs: int
    ports: int
    unknown_macs: int
    alerts_opened: int
    seconds: float


class BucketWriter:
    """Writes closed buckets: the members' ports carried from bucket to bucket, the MAC
    directory read afresh each time (a MAC registered a minute ago counts)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.homes: dict[str, store.Port] = {}

    def write(self, bucket: Bucket) -> Written:
        """Store one bucket, roll up, and keep the unknown-MAC alerts in step."""
        settings = self.settings
        started = time.monotonic()
        now = utcnow()
        with self.sessions() as session:
            directory = store.mac_directory(session, settings.traffic_exchange_macs)
            rows = store.rows_of_bucket(bucket, directory, self.homes)
            oldest = int(now.timestamp()) - settings.traffic_keep_5min_days * _DAY
            store.write(session, rows, not_before=oldest)
            rollup.rollup(
                session,
                complete_until=rows.start + BUCKET_SECONDS,
                now=int(now.timestamp()),
                keep_5min_days=settings.traffic_keep_5min_days,
                keep_hourly_days=settings.traffic_keep_hourly_days,
            )
            opened = alerts.sync_unknown_macs(
                session, directory, now, settings.traffic_unknown_mac_clear_minutes
            )
            session.commit()
        return Written(
            bucket.start,
            len(rows.pairs),
            len(rows.ports),
            len({mac for mac, *_ in rows.unknown}),
            len(opened),
            time.monotonic() - started,
        )


class Collector:
    """The collector's state: socket, aggregator, the buckets waiting to be written."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        metrics: TrafficMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.agents = AgentList(settings.traffic_agents)
        self.engine = engine or db.engine_from_settings(settings)
        self.metrics = metrics or TrafficMetrics()
        self.aggregator = Aggregator(accept=self.agents.allows_agent)
        self.writer = BucketWriter(settings, db.session_factory(self.engine))
        self.pending: deque[Bucket] = deque()
        self.port = 0

    async def run(self, stop: asyncio.Event, ready: Callable[[int], None] | None = None) -> None:
        """Receive until ``stop`` is set, writing each bucket once it has ended; then write
        the bucket in progress. ``ready`` is told the UDP port once it is bound."""
        settings = self.settings
        sock = open_socket(
            settings.traffic_listen, settings.traffic_port, settings.traffic_receive_buffer_bytes
        )
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        receiver = _Receiver(self.aggregator, self.agents, self.metrics)
        transport, _ = await loop.create_datagram_endpoint(lambda: receiver, sock=sock)
        log.info("collecting sFlow on %s port %d", settings.traffic_listen, self.port)
        if ready is not None:
            ready(self.port)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
                before = time.time() - settings.traffic_flush_delay_seconds
                self.pending.extend(self.aggregator.close(before=before))
                await self._flush()
        finally:
            transport.close()
            self.pending.extend(self.aggregator.close())
            await self._flush()
            self.metrics.refused_agents.set(self.aggregator.refused)

    async def _flush(self) -> None:
        """Write the waiting buckets in a thread, oldest first; keep them if the database
        cannot be written."""
        while self.pending:
            bucket = self.pending[0]
            try:
                written = await asyncio.to_thread(self.writer.write, bucket)
            except (IxpError, SQLAlchemyError, OSError) as exc:
                self.metrics.write_failures.inc()
                log.error("bucket of %s not written (will retry): %s", bucket.start, exc)
                while len(self.pending) > _BACKLOG:
                    dropped = self.pending.popleft()
                    log.error("bucket of %s dropped: the database was unavailable", dropped.start)
                return
            self.pending.popleft()
            self._report(bucket, written)

    def _report(self, bucket: Bucket, written: Written) -> None:
        """One log line per agent and the metrics of the bucket just written."""
        for agent in bucket.agents:
            reasons = ", ".join(f"{reason} {count}" for reason, count in agent.malformed)
            log.info(
                "bucket %s agent %s: %d datagrams (%d malformed%s), %d lost, %d flow samples, "
                "%d missed, %d dropped, %d not at ingress",
                f"{bucket.start:%Y-%m-%d %H:%M}", agent.agent, agent.datagrams,
                agent.malformed_datagrams, f": {reasons}" if reasons else "", agent.lost_datagrams,
                agent.flow_samples, agent.missed_samples, agent.dropped_samples,
                agent.not_ingress_samples,
            )  # fmt: skip
        log.info(
            "bucket %s written in %.2f s: %d member pairs, %d ports, %d unknown MACs "
            "(%d new alerts)",
            f"{written.bucket:%Y-%m-%d %H:%M}", written.seconds, written.pairs, written.ports,
            written.unknown_macs, written.alerts_opened,
        )  # fmt: skip
        self.metrics.bucket_written(bucket, written.seconds, written.unknown_macs)
        self.metrics.refused_agents.set(self.aggregator.refused)


def run(settings: Settings) -> None:
    """Run the collector until SIGTERM or SIGINT, serving /metrics unless its port is 0."""
    collector = Collector(settings)
    if settings.traffic_metrics_port:
        collector.metrics.serve(settings.traffic_metrics_address, settings.traffic_metrics_port)

    async def main() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, done.set)
        await collector.run(done)

    try:
        asyncio.run(main())
    finally:
        collector.engine.dispose()
    log.info("collector stopped at %s", datetime.now(UTC).isoformat(timespec="seconds"))
