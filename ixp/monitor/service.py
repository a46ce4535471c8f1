"""The long-running monitor: collectors, session checks, alerts, reachability, metrics.

``Monitor.check`` is one round over every route server of the exchange: read
the sessions from the control socket, store them and their events, count the
reject reasons of members with filtered routes, evaluate and store alerts (also
for members configured without registry data in use), and refresh the metrics.
A route server whose socket fails is reported (``rs-unreachable``) and retried
with exponential backoff; nothing a route server or ExaBGP does ends the loop.
``run`` repeats ``check`` until stopped and samples domestic reachability from
the collectors' RIBs on its own period.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ixp import db
from ixp.bird import BirdClient
from ixp.errors import IxpError
from ixp.exchange import get_exchange
from ixp.models import Alert, Exchange, RouteServer, SessionEvent, SessionState
from ixp.models.base import utcnow
from ixp.monitor import alerts, filtered, reach, sessions
from ixp.monitor.collector import Collector, CollectorPeer, CollectorSpec
from ixp.monitor.metrics import MonitorMetrics
from ixp.push.records import rs_push_states
from ixp.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Backoff:
    """When a failing route server may be tried again."""

    failures: int = 0
    next_try: float = 0.0
    error: str = ""


@dataclass
class CheckResult:
    """What one check round saw (for tests and ``monitor run --once``)."""

    events: list[SessionEvent] = field(default_factory=list)
    opened: list[Alert] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)


def collector_spec(rs: RouteServer, settings: Settings) -> CollectorSpec | None:
    """The collector sessions for ``rs`` from the collector settings, or None if none apply."""
    peers = []
    if rs.ipv4 and settings.collector_ipv4:
        peers.append(CollectorPeer(rs.ipv4, settings.collector_ipv4, 4))
    if rs.ipv6 and settings.collector_ipv6:
        peers.append(CollectorPeer(rs.ipv6, settings.collector_ipv6, 6))
    if not peers:
        return None
    return CollectorSpec(
        route_server=rs.name,
        rs_asn=rs.asn,
        collector_asn=settings.collector_asn,
        router_id=settings.collector_ipv4 or "0.0.0.1",
        peers=tuple(peers),
        namespace=settings.monitor_collector_namespace,
    )


class Monitor:
    """The monitor's state between rounds: collectors, backoff per route server, metrics."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        sockets: Mapping[str, str] | None = None,
    ) -> None:
        """``sockets`` replaces the stored control-socket paths by route-server name (lab)."""
        self.settings = settings
        self.sockets = dict(sockets or {})
        self.engine = engine or db.engine_from_settings(settings)
        self._own_engine = engine is None
        self.sessions = db.session_factory(self.engine)
        self.metrics = MonitorMetrics()
        self.collectors: dict[str, Collector] = {}
        self._backoff: dict[int, _Backoff] = {}
        self._metrics_server: WSGIServer | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self, *, collectors: bool = True, metrics: bool = True) -> None:
        """Start the /metrics server and one collector per route server with collector peers."""
        if metrics and self.settings.monitor_metrics_port:
            self._metrics_server, _thread = self.metrics.serve(
                self.settings.monitor_metrics_address, self.settings.monitor_metrics_port
            )
        if not collectors:
            return
        with self.sessions() as session:
            for rs in self._route_servers(session):
                spec = collector_spec(rs, self.settings)
                if spec is None:
                    log.warning("%s: no collector address configured; no RIB", rs.name)
                    continue
                collector = Collector(
                    spec,
                    collector_directory(self.settings, rs.name),
                    exabgp_path=self.settings.monitor_exabgp_path,
                    backoff_max=self.settings.monitor_backoff_max_seconds,
                )
                collector.start()
                self.collectors[rs.name] = collector

    def stop(self) -> None:
        """Stop the collectors and the metrics server."""
        for collector in self.collectors.values():
            collector.stop()
        self.collectors.clear()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
            self._metrics_server = None
        if self._own_engine:
            self.engine.dispose()

    # -- one round --------------------------------------------------------------------------

    def _route_servers(self, session: Session) -> list[RouteServer]:
        exchange = get_exchange(session)
        return list(exchange.route_servers)

    def check(self, now: dt.datetime | None = None) -> CheckResult:
        """One round of session checks, alerts and metrics over every route server."""
        now = now or utcnow()
        result = CheckResult()
        unreachable: dict[int, tuple[str, str]] = {}
        reasons: dict[tuple[int, int], Counter[int]] = {}
        with self.sessions() as session:
            for rs in self._route_servers(session):
                error = self._check_route_server(session, rs, now, result, reasons)
                if error is not None:
                    unreachable[rs.id] = (rs.name, error)
                    result.unreachable[rs.name] = error
            states = session.execute(
                select(SessionState, RouteServer.name).join(
                    RouteServer, SessionState.route_server_id == RouteServer.id
                )
            ).all()
            findings = alerts.evaluate(
                [(state, name) for state, name in states],
                unreachable,
                reasons,
                now,
                alerts.Thresholds.from_settings(self.settings),
                alerts.closed_registries(session),
                rs_push_states(session),
            )
            result.opened = alerts.sync_alerts(session, findings, now, unreachable)
            session.commit()
            alerts.notify(session, result.opened, self.settings, now)
            session.commit()
            self.metrics.set_alerts(alerts.alert_list(session))
        self.metrics.checks.inc()
        self._collector_metrics()
        return result

    def _check_route_server(
        self,
        session: Session,
        rs: RouteServer,
        now: dt.datetime,
        result: CheckResult,
        reasons: dict[tuple[int, int], Counter[int]],
    ) -> str | None:
        """Check one route server; returns the error if it cannot be reached."""
        backoff = self._backoff.setdefault(rs.id, _Backoff())
        if backoff.failures and time.monotonic() < backoff.next_try:
            return backoff.error
        try:
            socket = self.sockets.get(rs.name, rs.control_socket)
            with BirdClient(socket, timeout=self.settings.bird_timeout_seconds) as bird:
                samples = sessions.samples_from(bird.protocols())
                owners = {s.protocol: s.asn for s in samples if s.filtered and s.asn is not None}
                # One walk for every member's filtered routes: BIRD 2.0 walks its whole
                # table to find even one session's.
                found = bird.routes("filtered") if owners else []
        except IxpError as exc:
            backoff.failures += 1
            delay = min(
                self.settings.monitor_interval_seconds * 2 ** (backoff.failures - 1),
                self.settings.monitor_backoff_max_seconds,
            )
            backoff.next_try = time.monotonic() + delay
            backoff.error = str(exc)
            self.metrics.rs_reachable.labels(rs.name).set(0)
            log.error("%s: %s (retry in %.0f s)", rs.name, exc, delay)
            return backoff.error
        if backoff.failures:
            log.info("%s: control socket answers again", rs.name)
        self._backoff[rs.id] = _Backoff()
        self.metrics.rs_reachable.labels(rs.name).set(1)
        for asn, counts in filtered.record(session, rs, found, owners, now).items():
            reasons[(rs.id, asn)] = counts
        result.events += sessions.record_samples(
            session,
            rs,
            samples,
            now,
            jump_ratio=self.settings.monitor_prefix_jump_ratio,
            jump_min=self.settings.monitor_prefix_jump_min,
        )
        self.metrics.set_sessions(rs.name, samples)
        return None

    def _collector_metrics(self) -> None:
        for name, collector in self.collectors.items():
            self.metrics.set_collector(name, collector)

    def wait_for_ribs(self, timeout: float, settle: float = 3.0) -> bool:
        """Wait until every collector holds its route server's whole table; False on timeout.

        Whole means every collector session is up and has sent End-of-RIB, or,
        for a route server that sends no End-of-RIB (BIRD sends it only to
        graceful-restart speakers), that the route count has held still for
        ``settle`` seconds with every session up. A one-off round (``monitor
        run --once``) needs this before sampling reachability: a half-filled
        RIB would report the exchange reaching less than it does.
        """
        deadline = time.monotonic() + timeout
        last, steady_since = -1, time.monotonic()
        while True:
            loaded, up, total = True, True, 0
            for collector in self.collectors.values():
                rib = collector.ingest.rib
                with collector.ingest.lock:
                    peers = [peer.rs_address for peer in collector.spec.peers]
                    loaded = loaded and rib.loaded(peers)
                    up = up and rib.established(peers)
                    total += len(rib)
            now = time.monotonic()
            if total != last:
                last, steady_since = total, now
            if loaded or (up and total and now - steady_since >= settle):
                return True
            if now >= deadline:
                return False
            time.sleep(0.2)

    # -- reachability -----------------------------------------------------------------------

    def rib_routes(self) -> list[tuple[str, int | None, int | None]]:
        """(prefix, origin ASN, member ASN) of every route in every collector RIB."""
        routes = []
        for collector in self.collectors.values():
            with collector.ingest.lock:
                routes += [
                    (r.prefix, r.origin_asn, r.peer_asn) for r in collector.ingest.rib.routes()
                ]
        return routes

    def sample_reach(self, now: dt.datetime | None = None) -> list[reach.Reach]:
        """Compute and store domestic reachability from the live RIBs (nothing without data)."""
        now = now or utcnow()
        with self.sessions() as session:
            exchange: Exchange = get_exchange(session)
            resources = reach.country_resources(session, exchange.country)
            if not (resources.ipv4 or resources.ipv6 or resources.asns):
                return []
            reaches = reach.reach_by_member(resources, self.rib_routes())
            reach.store_samples(session, exchange, reaches, now)
            session.commit()
        self.metrics.set_reach(reaches)
        return reaches


def run(
    settings: Settings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    engine: Engine | None = None,
    sockets: Mapping[str, str] | None = None,
) -> None:
    """Run the monitor until SIGTERM/SIGINT (or ``stop`` is set).

    ``once``: one round and a reachability sample from full RIBs, then stop
    (no /metrics server); the collectors run just long enough to load the tables.
    """
    monitor = Monitor(settings, engine, sockets)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    monitor.start(collectors=True, metrics=not once)
    if once and monitor.collectors and not monitor.wait_for_ribs(settings.monitor_rib_wait_seconds):
        log.warning("collector RIBs still loading after %.0f s", settings.monitor_rib_wait_seconds)
    next_reach = time.monotonic() + (0 if once else settings.monitor_interval_seconds)
    try:
        while True:
            try:
                result = monitor.check()
                for name, error in result.unreachable.items():
                    log.warning("%s unreachable: %s", name, error)
                if monitor.collectors and time.monotonic() >= next_reach:
                    monitor.sample_reach()
                    next_reach = time.monotonic() + settings.monitor_reach_interval_seconds
            except (IxpError, SQLAlchemyError) as exc:
                # The database or the exchange's data may be briefly unavailable; keep going.
                log.error("monitor round failed: %s", exc)
            if once or stop.wait(settings.monitor_interval_seconds):
                break
    finally:
        monitor.stop()


def collector_directory(settings: Settings, rs_name: str) -> Path:
    """Where the collector of ``rs_name`` keeps its config, FIFO and ExaBGP log."""
    return settings.home / "monitor" / rs_name
