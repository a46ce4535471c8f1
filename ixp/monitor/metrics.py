"""Prometheus metrics of the monitor, served at ``/metrics`` by prometheus_client's own server.

A private registry (not the library's global one) keeps tests and several
monitors in one process apart. Gauges describing sessions and alerts are
cleared and refilled on each check, so a session or alert that disappeared
stops being reported instead of keeping its last value forever.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from ixp.monitor.alerts import AlertRow
from ixp.monitor.collector import Collector
from ixp.monitor.reach import Reach
from ixp.monitor.sessions import SessionSample

SESSION_LABELS = ("route_server", "protocol", "family", "asn")


class MonitorMetrics:
    """Every metric the monitor exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.session_up = Gauge(
            "ixp_session_up", "Member session established", SESSION_LABELS, registry=r
        )
        self.routes = Gauge(
            "ixp_session_routes", "Routes per member session", (*SESSION_LABELS, "kind"), registry=r
        )
        self.import_limit = Gauge(
            "ixp_session_import_limit",
            "Max-prefix limit of the session",
            SESSION_LABELS,
            registry=r,
        )
        self.rs_reachable = Gauge(
            "ixp_route_server_reachable", "Control socket answered", ("route_server",), registry=r
        )
        self.rib_routes = Gauge(
            "ixp_rib_routes", "Routes in the collector RIB", ("route_server",), registry=r
        )
        self.collector_up = Gauge(
            "ixp_collector_up", "Collector BGP session established", ("route_server",), registry=r
        )
        self.collector_restarts = Gauge(
            "ixp_collector_restarts", "ExaBGP restarts since start", ("route_server",), registry=r
        )
        self.ingest_lines = Gauge(
            "ixp_collector_lines", "ExaBGP JSON lines read", ("route_server",), registry=r
        )
        self.malformed = Gauge(
            "ixp_collector_malformed_lines", "ExaBGP lines skipped", ("route_server",), registry=r
        )
        self.apply_errors = Gauge(
            "ixp_collector_apply_errors",
            "Decoded ExaBGP lines the RIB failed to apply",
            ("route_server",),
            registry=r,
        )
        self.reader_failures = Gauge(
            "ixp_collector_reader_failures",
            "Stream readers that failed (ExaBGP restarted with them)",
            ("route_server",),
            registry=r,
        )
        self.alerts = Gauge(
            "ixp_alert_active",
            "An open alert (1)",
            ("rule", "severity", "route_server", "asn"),
            registry=r,
        )
        self.reach = Gauge(
            "ixp_reach_percent",
            "Domestic resources reachable over the exchange",
            ("resource", "asn"),
            registry=r,
        )
        self.checks = Counter("ixp_monitor_checks", "Session checks run", registry=r)
        self._session_labels: dict[str, list[tuple[str, ...]]] = {}

    def set_sessions(self, route_server: str, samples: Sequence[SessionSample]) -> None:
        """Replace the session gauges of one route server."""
        for labels in self._session_labels.pop(route_server, []):
            for gauge in (self.session_up, self.import_limit):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
            for kind in ("imported", "filtered", "exported"):
                with contextlib.suppress(KeyError):
                    self.routes.remove(*labels, kind)
        seen = self._session_labels[route_server] = []
        for s in samples:
            labels = (route_server, s.protocol, s.family, str(s.asn or ""))
            seen.append(labels)
            self.session_up.labels(*labels).set(1 if s.up else 0)
            for kind, value in (
                ("imported", s.imported),
                ("filtered", s.filtered),
                ("exported", s.exported),
            ):
                self.routes.labels(*labels, kind).set(value)
            if s.import_limit:
                self.import_limit.labels(*labels).set(s.import_limit)

    def set_collector(self, route_server: str, collector: Collector) -> None:
        """The collector gauges of one route server: RIB size, session, restarts, skipped lines."""
        ingest = collector.ingest
        with ingest.lock:
            self.rib_routes.labels(route_server).set(len(ingest.rib))
            self.collector_up.labels(route_server).set(1 if ingest.rib.up else 0)
        self.collector_restarts.labels(route_server).set(collector.restarts)
        self.reader_failures.labels(route_server).set(collector.reader_failures)
        self.ingest_lines.labels(route_server).set(ingest.lines)
        self.malformed.labels(route_server).set(ingest.malformed)
        self.apply_errors.labels(route_server).set(ingest.apply_errors)

    def set_alerts(self, rows: Iterable[AlertRow]) -> None:
        """Replace the alert gauges with the open alerts."""
        self.alerts.clear()
        for row in rows:
            self.alerts.labels(
                row.rule, row.severity, row.route_server or "", str(row.asn or "")
            ).set(1)

    def set_reach(self, reaches: Iterable[Reach]) -> None:
        """Replace the reachability gauges."""
        self.reach.clear()
        for reach in reaches:
            asn = "" if reach.asn is None else str(reach.asn)
            for resource, share in reach.percents().items():
                self.reach.labels(resource, asn).set(share)

    def serve(self, address: str, port: int) -> tuple[WSGIServer, threading.Thread]:
        """Start the ``/metrics`` HTTP server in a daemon thread; returns (server, thread)."""
        return start_http_server(port, addr=address, registry=self.registry)
