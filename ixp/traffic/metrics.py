"""Prometheus metrics of the sFlow collector, served at ``/metrics`` as the monitor serves its own.

A private registry (as ``ixp.monitor.metrics``) keeps several collectors in one
process (the tests) apart. The per-agent counters grow as each bucket is written:
they say what the last written bucket held, at most five minutes and the flush delay
behind. Agents are labels only once allowed (``traffic_agents``), so spoofed sources
cannot add labels; refused datagrams are one counter.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from ixp.traffic.buckets import Bucket, pair_totals


class TrafficMetrics:
    """Every metric the collector exports."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        agent = ("agent",)
        self.datagrams = Counter("ixp_traffic_datagrams", "sFlow datagrams received", agent,
                                 registry=r)  # fmt: skip
        self.malformed = Counter(
            "ixp_traffic_malformed_datagrams", "Datagrams not read", (*agent, "reason"), registry=r
        )
        self.lost = Counter(
            "ixp_traffic_lost_datagrams", "Datagrams lost (sequence gaps)", agent, registry=r
        )
        self.flow_samples = Counter("ixp_traffic_flow_samples", "Flow samples counted", agent,
                                    registry=r)  # fmt: skip
        self.missed = Counter(
            "ixp_traffic_missed_samples", "Samples sent but not counted", agent, registry=r
        )
        self.dropped = Counter(
            "ixp_traffic_dropped_samples", "Samples the agent dropped itself", agent, registry=r
        )
        self.not_ingress = Counter(
            "ixp_traffic_not_ingress_samples",
            "Samples not taken at their input port (egress sampling counts frames twice)",
            agent,
            registry=r,
        )
        self.local_bytes = Counter(
            "ixp_traffic_local_bytes", "Bytes between MAC pairs (sampled estimate)", registry=r
        )
        self.refused = Counter(
            "ixp_traffic_refused_datagrams", "Datagrams from sources not allowed", registry=r
        )
        self.refused_agents = Gauge(
            "ixp_traffic_refused_agent_datagrams",
            "Datagrams from allowed sources naming an agent address not allowed",
            registry=r,
        )
        self.receive_failures = Counter(
            "ixp_traffic_receive_failures", "Datagrams a bug kept from being counted", registry=r
        )
        self.buckets = Counter("ixp_traffic_buckets_written", "Buckets written", registry=r)
        self.write_failures = Counter(
            "ixp_traffic_bucket_write_failures", "Bucket writes that failed", registry=r
        )
        self.write_seconds = Gauge(
            "ixp_traffic_bucket_write_seconds", "Time the last bucket took to write", registry=r
        )
        self.last_bucket = Gauge(
            "ixp_traffic_last_bucket_timestamp_seconds", "Start of the last bucket written",
            registry=r,
        )  # fmt: skip
        self.unknown_macs = Gauge(
            "ixp_traffic_unknown_macs", "Unknown MACs in the last bucket written", registry=r
        )

    def bucket_written(self, bucket: Bucket, seconds: float, unknown_macs: int) -> None:
        """Add one written bucket's figures."""
        for health in bucket.agents:
            name = health.agent
            self.datagrams.labels(name).inc(health.datagrams)
            for reason, count in health.malformed:
                self.malformed.labels(name, reason).inc(count)
            self.lost.labels(name).inc(health.lost_datagrams)
            self.flow_samples.labels(name).inc(health.flow_samples)
            self.missed.labels(name).inc(health.missed_samples)
            self.dropped.labels(name).inc(health.dropped_samples)
            self.not_ingress.labels(name).inc(health.not_ingress_samples)
        self.local_bytes.inc(sum(t.bytes for t in pair_totals(bucket.flows).values()))
        self.buckets.inc()
        self.write_seconds.set(seconds)
        self.last_bucket.set(bucket.start.timestamp())
        self.unknown_macs.set(unknown_macs)

    def serve(self, address: str, port: int) -> tuple[WSGIServer, threading.Thread]:
        """Start the ``/metrics`` HTTP server in a daemon thread; returns (server, thread)."""
        return start_http_server(port, addr=address, registry=self.registry)
