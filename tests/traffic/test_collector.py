"""The collector over a real UDP socket: allowed agents only, nothing a datagram holds stops it,
every bucket lands in the database, and unknown MACs become alerts an operator can act on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.members import MemberInput, add_member
from ixp.models import TrafficAgent, TrafficPair
from ixp.models.base import utcnow
from ixp.monitor import alerts
from ixp.settings import Settings
from ixp.traffic import sflowgen, store
from ixp.traffic.alerts import sync_unknown_macs
from ixp.traffic.collector import AgentList, Collector
from tests.traffic.exchange import asn_of, generated_mac, traffic_exchange
from tests.traffic.test_store import UNKNOWN, sample

AGENTS = ["127.0.0.1", "192.0.2.0/24", "2001:db8:ffff::/48"]


def collector_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "traffic_listen": "127.0.0.1",
            "traffic_port": 0,
            "traffic_agents": AGENTS,
            "traffic_flush_delay_seconds": 0.0,
            "traffic_metrics_port": 0,
        }
    )


def collect(settings: Settings, datagrams: Sequence[bytes]) -> Collector:
    """Run a collector, send it ``datagrams`` from loopback, stop it (writing what it has)."""
    collector = Collector(settings)

    async def scenario() -> None:
        stop = asyncio.Event()
        bound = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(collector.run(stop, bound.set_result))
        port = await asyncio.wait_for(bound, 10)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for number, data in enumerate(datagrams):
                sender.sendto(data, ("127.0.0.1", port))
                if number % 50 == 49:
                    await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(task, 60)

    try:
        asyncio.run(scenario())
    finally:
        collector.engine.dispose()
    return collector


def test_a_stream_from_allowed_agents_is_stored_and_bad_datagrams_only_counted(
    settings: Settings, session: Session
) -> None:
    traffic_exchange(session, 8)
    stream = sflowgen.Stream(sflowgen.Spec(seed=9, members=8, samples_per_second=100))
    good = [packet.payload for packet in stream.packets(2000)]
    spoofed = sflowgen.datagram(
        "203.0.113.9", 0, 1, 1, [sample(1, generated_mac(0), generated_mac(1))]
    )
    bad = [b"", b"\x00\x00\x00\x05", b"garbage!" * 20, good[0][:-7], spoofed]
    collector = collect(collector_settings(settings), good[:100] + bad + good[100:])

    expected: dict[tuple[int, int], int] = {}
    for (src, dst, _, _), (_, size) in stream.expected.items():
        pair = (asn_of(src[-1]), asn_of(dst[-1]))
        expected[pair] = expected.get(pair, 0) + size
    found: dict[tuple[int, int], int] = {}
    for row in session.scalars(select(TrafficPair).where(TrafficPair.resolution == 300)):
        pair = (row.src_asn, row.dst_asn)
        found[pair] = found.get(pair, 0) + row.bytes4 + row.bytes6
    assert found == expected
    health = {row.agent: row for row in session.scalars(select(TrafficAgent))}
    assert "203.0.113.9" not in health
    assert sum(row.datagrams for row in health.values()) == len(good) + 4
    assert sum(row.malformed for row in health.values()) == 4  # the truncated copy included
    assert collector.aggregator.refused == 1
    registry = collector.metrics.registry
    assert (registry.get_sample_value("ixp_traffic_buckets_written_total") or 0) >= 1
    assert (
        registry.get_sample_value(
            "ixp_traffic_malformed_datagrams_total", {"agent": "127.0.0.1", "reason": "version"}
        )
        == 1
    )


def test_datagrams_from_a_source_not_allowed_are_refused(
    settings: Settings, session: Session
) -> None:
    traffic_exchange(session, 2)
    datagram = sflowgen.datagram("127.0.0.1", 0, 1, 1, [sample(1, generated_mac(0), UNKNOWN)])
    only_elsewhere = collector_settings(settings).model_copy(
        update={"traffic_agents": ["192.0.2.0/24"]}
    )
    collector = collect(only_elsewhere, [datagram] * 3)
    assert collector.metrics.registry.get_sample_value("ixp_traffic_refused_datagrams_total") == 3
    assert session.scalars(select(TrafficAgent)).all() == []


def test_an_empty_or_bad_allow_list_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="is empty"):
        AgentList([])
    with pytest.raises(ValidationError, match="traffic_agents"):
        AgentList(["switch-1"])


def test_an_unknown_mac_raises_an_alert_that_outlives_monitor_rounds_until_it_is_registered(
    settings: Settings, session: Session
) -> None:
    traffic_exchange(session, 2)
    a = generated_mac(0)
    datagram = sflowgen.datagram(
        "192.0.2.7", 0, 1, 1, [sample(1, UNKNOWN, a, port=31), sample(2, a, UNKNOWN)]
    )
    collect(collector_settings(settings), [datagram])

    (alert,) = alerts.alert_list(session)
    assert alert.rule == "unknown-mac"
    assert UNKNOWN in alert.message
    assert "sent 100,000 bytes (1 samples) at agent 192.0.2.7 port 31" in alert.message
    assert "was sent 100,000 bytes (1 samples) at agent 192.0.2.7 port 7" in alert.message
    alerts.acknowledge(session, alert.id, actor="noc")
    # The monitor's round knows nothing of traffic and must leave the alert as it is.
    alerts.sync_alerts(session, [], utcnow())
    session.commit()
    (still,) = alerts.alert_list(session)
    assert (still.id, still.acknowledged_by) == (alert.id, "noc")

    # The MAC turns out to be a new member's router: once registered, the alert closes.
    add_member(
        session,
        MemberInput(asn=asn_of(5), name="Late", max_prefix_v4=10, max_prefix_v6=10,
                    auto_ip=True, macs=[UNKNOWN]),
        actor="test",
    )  # fmt: skip
    sync_unknown_macs(session, store.mac_directory(session), utcnow(), 60)
    session.commit()
    assert alerts.alert_list(session) == []
