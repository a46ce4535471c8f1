"""Closed buckets written to the database: MACs become members, a bucket is one transaction.

Each test runs on SQLite and on a real PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.models import MacRole, TrafficAgent, TrafficPair, TrafficPort, TrafficUnknownMac
from ixp.traffic import buckets, sflowgen, store
from tests.traffic.exchange import asn_of, generated_mac, traffic_exchange

T0 = 1_700_000_100.0  # the start of a bucket
AGENT, TRUNK_AGENT = "192.0.2.1", "192.0.2.2"
UNKNOWN = "02:99:00:00:00:01"
RS_MAC = "02:1a:00:00:ff:01"  # a route server's: the exchange's own
BROADCAST = "ff:ff:ff:ff:ff:ff"


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def sample(seq: int, src: str, dst: str, *, port: int = 7, ip_version: int = 4,
           rate: int = 100, frame_length: int = 1000) -> bytes:  # fmt: skip
    header = sflowgen.ethernet_header(
        mac_bytes(dst), mac_bytes(src), ip_version=ip_version, frame_length=frame_length
    )
    record = sflowgen.raw_packet_header(frame_length, header)
    return sflowgen.flow_sample(seq, port, rate, rate * seq, 0, port, 9, [record])


def bucket_of(*datagrams: tuple[str, Sequence[bytes]]) -> buckets.Bucket:
    """One bucket of one datagram per (agent, samples)."""
    aggregator = buckets.Aggregator()
    for seq, (agent, samples) in enumerate(datagrams, 1):
        aggregator.add(sflowgen.datagram(agent, 0, seq, seq * 1000, samples), agent, T0 + seq)
    (bucket,) = aggregator.close()
    return bucket


def pairs(session: Session) -> dict[tuple[int, int], tuple[int, ...]]:
    return {
        (row.src_asn, row.dst_asn): (row.samples4, row.bytes4, row.samples6, row.bytes6)
        for row in session.scalars(select(TrafficPair).where(TrafficPair.resolution == 300))
    }


def ports(session: Session) -> dict[tuple[str, int], TrafficPort]:
    return {(row.agent, row.if_index): row for row in session.scalars(select(TrafficPort))}


def test_a_generated_bucket_is_stored_as_the_matrix_the_stream_sent(session: Session) -> None:
    traffic_exchange(session, 12)
    stream = sflowgen.Stream(sflowgen.Spec(seed=5, members=12, samples_per_second=20))
    aggregator = buckets.Aggregator()
    for packet in stream.packets(1500):
        aggregator.add(packet.payload, packet.source, packet.time)
    (bucket,) = aggregator.close()
    store.write(session, store.rows_of_bucket(bucket, store.mac_directory(session)))

    expected: dict[tuple[int, int], list[int]] = {}
    for (src, dst, _, version), (samples, size) in stream.expected.items():
        counts = expected.setdefault((asn_of(src[-1]), asn_of(dst[-1])), [0, 0, 0, 0])
        offset = 0 if version == 4 else 2
        counts[offset] += samples
        counts[offset + 1] += size
    assert pairs(session) == {pair: tuple(counts) for pair, counts in expected.items()}
    by_member = {row.asn: row for row in ports(session).values()}
    for index in range(12):
        sent = sum(c[1] + c[3] for (src, _), c in expected.items() if src == asn_of(index))
        received = sum(c[1] + c[3] for (_, dst), c in expected.items() if dst == asn_of(index))
        port = by_member[asn_of(index)]
        assert (port.in_bytes, port.out_bytes, port.foreign_samples) == (sent, received, 0)
        assert port.in_bytes4 + port.in_bytes6 == port.in_bytes
        assert port.counter_readings > 0
    health = {row.agent: row for row in session.scalars(select(TrafficAgent))}
    assert set(health) == {a.agent for a in bucket.agents}
    assert sum(row.flow_samples for row in health.values()) == 1500
    assert session.scalars(select(TrafficUnknownMac)).all() == []


def test_a_bucket_written_again_adds_to_what_it_holds(session: Session) -> None:
    """A collector restarted within a bucket writes it in two parts."""
    traffic_exchange(session, 2)
    a, b = generated_mac(0), generated_mac(1)
    directory = store.mac_directory(session)
    first = bucket_of((AGENT, [sample(1, a, b), sample(2, a, b, ip_version=6)]))
    second = bucket_of((AGENT, [sample(1, a, b, frame_length=500)]))
    store.write(session, store.rows_of_bucket(first, directory))
    store.write(session, store.rows_of_bucket(second, directory))
    assert pairs(session) == {(asn_of(0), asn_of(1)): (2, 150_000, 1, 100_000)}
    (health,) = session.scalars(select(TrafficAgent)).all()
    assert (health.datagrams, health.flow_samples) == (2, 3)


def test_unknown_macs_are_sighted_where_they_entered(session: Session) -> None:
    """A router nobody registered, the exchange's own route server, broadcasts."""
    traffic_exchange(session, 2)
    a, b = generated_mac(0), generated_mac(1)
    directory = store.mac_directory(session, [RS_MAC])
    bucket = bucket_of(
        (AGENT, [sample(1, a, b), sample(2, a, UNKNOWN), sample(3, a, BROADCAST, ip_version=0),
                 sample(4, a, RS_MAC)]),
        (TRUNK_AGENT, [sample(1, UNKNOWN, b, port=12), sample(2, RS_MAC, b, port=13)]),
    )  # fmt: skip
    store.write(session, store.rows_of_bucket(bucket, directory))
    assert pairs(session) == {(asn_of(0), asn_of(1)): (1, 100_000, 0, 0)}
    sightings = {
        (row.mac, row.role, row.agent, row.if_index): (row.samples, row.bytes)
        for row in session.scalars(select(TrafficUnknownMac))
    }
    assert sightings == {
        (UNKNOWN, MacRole.dst, AGENT, 7): (1, 100_000),
        (UNKNOWN, MacRole.src, TRUNK_AGENT, 12): (1, 100_000),
    }
    found = ports(session)
    member_port = found[(AGENT, 7)]
    assert (member_port.asn, member_port.in_samples, member_port.in_bytes4) == (
        asn_of(0),
        4,
        300_000,
    )
    assert (found[(TRUNK_AGENT, 12)].asn, found[(TRUNK_AGENT, 12)].in_bytes) == (None, 100_000)


def test_frames_counted_again_at_a_second_agent_are_foreign_samples(session: Session) -> None:
    """Sampling on an inter-switch link sees frames a member port already sampled."""
    traffic_exchange(session, 2)
    a, b = generated_mac(0), generated_mac(1)
    bucket = bucket_of(
        (AGENT, [sample(n, a, b) for n in range(1, 5)] + [sample(5, b, a, port=8)]),
        (TRUNK_AGENT, [sample(n, a, b, port=99) for n in range(1, 3)]),
    )
    store.write(session, store.rows_of_bucket(bucket, store.mac_directory(session)))
    found = ports(session)
    assert (found[(AGENT, 7)].asn, found[(AGENT, 7)].foreign_samples) == (asn_of(0), 0)
    assert (found[(AGENT, 8)].asn, found[(AGENT, 8)].out_samples) == (asn_of(1), 6)
    trunk = found[(TRUNK_AGENT, 99)]
    assert (trunk.asn, trunk.in_samples, trunk.foreign_samples) == (None, 2, 2)


def test_a_members_port_is_remembered_for_buckets_where_it_only_receives(
    session: Session,
) -> None:
    traffic_exchange(session, 2)
    a, b = generated_mac(0), generated_mac(1)
    directory = store.mac_directory(session)
    homes: dict[str, store.Port] = {}
    store.rows_of_bucket(bucket_of((AGENT, [sample(1, b, a, port=8)])), directory, homes)
    rows = store.rows_of_bucket(bucket_of((AGENT, [sample(1, a, b)])), directory, homes)
    assert rows.ports[(AGENT, 8)].counts["out_bytes"] == 100_000


def test_a_bucket_older_than_the_kept_rows_is_refused(session: Session) -> None:
    traffic_exchange(session, 2)
    rows = store.rows_of_bucket(
        bucket_of((AGENT, [sample(1, generated_mac(0), generated_mac(1))])),
        store.mac_directory(session),
    )
    with pytest.raises(ValidationError, match="older than the 5-minute rows are kept"):
        store.write(session, rows, not_before=int(T0) + 300)
    assert pairs(session) == {}


def test_an_exchange_mac_that_is_no_mac_is_named(session: Session) -> None:
    with pytest.raises(ValidationError, match="traffic_exchange_macs"):
        store.mac_directory(session, ["not-a-mac"])
