"""The 5-minute buckets: the matrix as sent, and every health figure an operator relies on.

Most datagrams here are put together from the encoders, one port of one agent, so
each figure (lost datagrams, missed and dropped samples, the sample pool, interface
counter growth) can be checked against a number worked out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ixp.traffic import buckets, sflow, sflowgen

AGENT = "192.0.2.1"
T0 = 1_700_000_100.0  # the start of a bucket
SRC, DST = bytes.fromhex("021a00000001"), bytes.fromhex("021a00000002")


def flow(seq: int, *, pool: int, drops: int = 0, rate: int = 100, port: int = 7,
         source: int = 7, frame_length: int = 1000, snap: int = 128) -> bytes:  # fmt: skip
    header = sflowgen.ethernet_header(DST, SRC, frame_length=frame_length, snap=snap)
    record = sflowgen.raw_packet_header(frame_length, header)
    return sflowgen.flow_sample(seq, source, rate, pool, drops, port, 9, [record])


def datagram(seq: int, samples: Sequence[bytes], *, uptime: int | None = None,
             agent: str = AGENT) -> bytes:  # fmt: skip
    return sflowgen.datagram(agent, 0, seq, uptime if uptime is not None else seq * 1000, samples)


def one_bucket(aggregator: buckets.Aggregator) -> buckets.Bucket:
    (bucket,) = aggregator.close()
    return bucket


def test_a_generated_stream_is_counted_exactly_as_it_was_sent() -> None:
    """Several agents (IPv4 and IPv6 addresses, compact and expanded samples), tagged and
    Q-in-Q ports, IPv4 and IPv6 frames: the matrix equals the generator's truth."""
    stream = sflowgen.Stream(sflowgen.Spec(seed=7, samples_per_second=50))
    aggregator = buckets.Aggregator()
    for packet in stream.packets(6000):
        aggregator.add(packet.payload, packet.source, packet.time)
    found: dict[sflowgen.Cell, list[int]] = {}
    closed = aggregator.close()
    assert len(closed) == 2  # two minutes of samples from mid-bucket cross a boundary
    for bucket in closed:
        for cell in bucket.flows:
            src, dst = (bytes.fromhex(mac.replace(":", "")) for mac in (cell.src_mac, cell.dst_mac))
            total = found.setdefault((src, dst, cell.vlan, cell.ip_version), [0, 0])
            total[0] += cell.samples
            total[1] += cell.bytes
            assert cell.packets == cell.samples * stream.spec.sampling_rate
        for agent in bucket.agents:
            assert (agent.malformed, agent.lost_datagrams, agent.not_ingress_samples) == ((), 0, 0)
    assert found == stream.expected
    assert {(v, t > 0) for (_, _, t, v) in found} == {(4, False), (4, True), (6, False), (6, True)}
    agents = {a.agent for b in closed for a in b.agents}
    assert len(agents) == 4 and any(":" in a for a in agents)


def test_datagrams_lost_on_the_way_are_counted_from_the_sequence_gaps() -> None:
    stream = sflowgen.Stream(sflowgen.Spec(seed=3, lose=0.05, samples_per_second=200))
    aggregator = buckets.Aggregator()
    received: dict[str, list[int]] = {}
    for packet in stream.packets(20_000):
        aggregator.add(packet.payload, packet.source, packet.time)
        decoded = sflow.decode(packet.payload)
        received.setdefault(decoded.agent, []).append(decoded.sequence)
    # A loss shows as a gap only between two datagrams that arrived.
    detectable = sum(min(received[a]) < seq < max(received[a]) for a, seq in stream.lost)
    closed = aggregator.close()
    assert sum(a.lost_datagrams for b in closed for a in b.agents) == detectable > 50


def test_missed_and_dropped_samples_and_the_pool_of_a_source() -> None:
    aggregator = buckets.Aggregator()
    aggregator.add(datagram(1, [flow(1, pool=100), flow(2, pool=200)]), AGENT, T0)
    aggregator.add(datagram(2, [flow(3, pool=300), flow(4, pool=400)]), AGENT, T0 + 1)
    first = one_bucket(aggregator)
    (source,) = first.sources
    assert (source.samples, source.missed, source.dropped, source.packets) == (4, None, None, None)
    # Next bucket: datagram 3 (samples 5, 6) is lost; 4 arrives; 5 is cut short inside
    # sample 10, so sample 9 is read but not counted. The agent dropped 3 samples.
    later = T0 + 300
    aggregator.add(datagram(4, [flow(7, pool=1000, drops=3), flow(8, pool=1100, drops=3)]),
                   AGENT, later)  # fmt: skip
    truncated = datagram(5, [flow(9, pool=1200, drops=3), flow(10, pool=1300, drops=3)])
    aggregator.add(truncated[:-10], AGENT, later + 1)
    bucket = one_bucket(aggregator)
    (agent,) = bucket.agents
    assert (agent.datagrams, agent.accepted_datagrams, agent.lost_datagrams) == (2, 1, 1)
    assert agent.malformed == (("truncated", 1),)
    (source,) = bucket.sources
    assert (source.agent, source.source_type, source.source_index) == (AGENT, 0, 7)
    # Up to sample 9: 5 sent since sample 4, 2 counted; 3 dropped; the pool grew to 1200.
    assert (source.samples, source.missed, source.dropped, source.packets) == (2, 3, 3, 800)
    assert (agent.missed_samples, agent.dropped_samples) == (3, 3)
    (cell,) = bucket.flows
    assert (cell.samples, cell.packets, cell.bytes) == (2, 200, 200_000)


def test_a_sample_pool_that_wrapped_several_times_is_read_whole() -> None:
    """A 32-bit pool at 100 Gbit/s wraps within a minute; the sequence numbers say how often."""
    rate = 1 << 20
    aggregator = buckets.Aggregator()
    start_pool = 2**32 - 10
    aggregator.add(datagram(1, [flow(1, pool=start_pool, rate=rate)]), AGENT, T0)
    aggregator.close()
    sent = 9000  # samples since, about 2.2 wraps of the pool
    pool = (start_pool + sent * rate) & 0xFFFFFFFF
    aggregator.add(datagram(2, [flow(1 + sent, pool=pool, rate=rate)]), AGENT, T0 + 300)
    (source,) = one_bucket(aggregator).sources
    assert source.packets == sent * rate
    assert source.missed == sent - 1


def test_late_duplicate_and_restarted_datagrams() -> None:
    aggregator = buckets.Aggregator()
    pool = iter(range(100, 10_000, 100))
    day = 86_400_000  # the agent has been up for a day
    for seq in (1, 2, 4, 3, 4, 5):
        sample = flow(seq, pool=next(pool))
        aggregator.add(datagram(seq, [sample], uptime=day + seq * 1000), AGENT, T0 + seq)
    # The agent restarts: its uptime and sequence numbers start again.
    aggregator.add(datagram(1, [flow(1, pool=100)], uptime=50), AGENT, T0 + 10)
    aggregator.add(datagram(2, [flow(2, pool=200)], uptime=1050), AGENT, T0 + 11)
    (agent,) = one_bucket(aggregator).agents
    assert (agent.lost_datagrams, agent.late_datagrams, agent.duplicate_datagrams) == (1, 1, 1)
    assert agent.restarts == 1
    assert agent.datagrams == agent.accepted_datagrams == 8


def test_a_restart_settles_the_sources_against_their_baseline() -> None:
    aggregator = buckets.Aggregator()
    aggregator.add(datagram(10, [flow(10, pool=1000)], uptime=900_000), AGENT, T0)
    aggregator.close()
    aggregator.add(datagram(11, [flow(12, pool=1200)], uptime=901_000), AGENT, T0 + 300)
    aggregator.add(datagram(1, [flow(1, pool=100)], uptime=100), AGENT, T0 + 301)
    bucket = one_bucket(aggregator)
    (source,) = bucket.sources
    # Before the restart: samples 11 and 12 were sent and 12 arrived; after it, sample 1.
    assert (source.samples, source.missed, source.packets) == (2, 1, 200)
    aggregator.add(datagram(2, [flow(3, pool=300)], uptime=1100), AGENT, T0 + 600)
    (source,) = one_bucket(aggregator).sources
    assert (source.samples, source.missed, source.packets) == (1, 1, 200)


def test_interface_counters_grow_between_readings() -> None:
    def reading(seq: int, octets: int, packets: int, uptime: int) -> bytes:
        counters = sflow.InterfaceCounters(
            7, 6, 10**11, 1, 3, octets, packets, 0, 0, 0, 0, 0, 2 * octets,
            2 * packets & 0xFFFFFFFF, 0, 0, 0, 0, 0,
        )  # fmt: skip
        sample = sflowgen.counter_sample(seq, 7, [sflowgen.interface_counters(counters)])
        return datagram(seq, [sample], uptime=uptime)

    aggregator = buckets.Aggregator()
    aggregator.add(reading(1, 10_000, 2**32 - 5, 20_000), AGENT, T0)
    aggregator.add(reading(2, 30_000, 15, 40_000), AGENT, T0 + 20)  # packets wrapped
    aggregator.add(reading(3, 50_000, 35, 60_000), AGENT, T0 + 40)
    bucket = one_bucket(aggregator)
    (port,) = bucket.ports
    assert (port.agent, port.if_index, port.readings, port.seconds) == (AGENT, 7, 3, 40.0)
    assert (port.in_octets, port.in_packets) == (40_000, 40)
    assert (port.out_octets, port.out_packets) == (80_000, 80)
    assert (port.speed, port.status) == (10**11, 3)
    assert bucket.agents[0].counter_samples == 3
    # After a restart the first reading is a new baseline, not growth.
    aggregator.add(reading(1, 100, 1, 1_000), AGENT, T0 + 300)
    (port,) = one_bucket(aggregator).ports
    assert (port.readings, port.in_octets, port.seconds) == (1, 0, 0.0)


def test_every_datagram_is_accounted_for_even_unreadable_ones() -> None:
    aggregator = buckets.Aggregator()
    good = datagram(1, [flow(1, pool=100)])
    aggregator.add(good, "198.51.100.9", T0)
    aggregator.add(b"\x00\x00\x00\x05\x00\x00", "198.51.100.9", T0)  # header cut short
    aggregator.add(b"garbage!", "2001:db8::9", T0)  # version 0x67617262
    aggregator.add(datagram(2, [flow(2, pool=200)], agent=""), "198.51.100.9", T0)
    health = {a.agent: a for a in one_bucket(aggregator).agents}
    assert set(health) == {AGENT, "198.51.100.9", "2001:db8::9"}
    assert (health[AGENT].datagrams, health[AGENT].accepted_datagrams) == (1, 1)
    unknown = health["198.51.100.9"]  # no agent address: known by its UDP source
    assert (unknown.datagrams, unknown.accepted_datagrams, unknown.malformed) == (
        2, 1, (("truncated", 1),),
    )  # fmt: skip
    assert health["2001:db8::9"].malformed == (("version", 1),)


def test_frames_that_cannot_be_attributed_and_samples_not_taken_at_ingress() -> None:
    aggregator = buckets.Aggregator()
    samples = [
        flow(1, pool=100, snap=10),  # a header too short for the MACs
        flow(2, pool=200, port=8),  # sampled at port 7, but the frame came in on port 8
        flow(3, pool=300),
    ]
    aggregator.add(datagram(1, samples), AGENT, T0)
    bucket = one_bucket(aggregator)
    (agent,) = bucket.agents
    assert (agent.flow_samples, agent.unattributed_samples, agent.not_ingress_samples) == (3, 1, 1)
    assert sorted((c.port, c.samples) for c in bucket.flows) == [(7, 1), (8, 1)]


def test_each_sample_is_scaled_by_its_own_rate_and_pairs_sum_over_cells() -> None:
    aggregator = buckets.Aggregator()
    samples = [flow(1, pool=100, rate=100), flow(2, pool=1100, rate=1000, frame_length=64)]
    aggregator.add(datagram(1, samples), AGENT, T0)
    bucket = one_bucket(aggregator)
    (cell,) = bucket.flows
    assert (cell.src_mac, cell.dst_mac) == ("02:1a:00:00:00:01", "02:1a:00:00:00:02")
    assert (cell.samples, cell.packets, cell.bytes) == (2, 1100, 100 * 1000 + 1000 * 64)
    totals = buckets.pair_totals(bucket.flows)
    assert totals == {(cell.src_mac, cell.dst_mac): buckets.Totals(2, 1100, 164_000)}
    low, high = cell.bytes_interval()
    assert low < cell.bytes < high


def test_buckets_follow_arrival_time_and_close_once_ended() -> None:
    aggregator = buckets.Aggregator()
    aggregator.add(datagram(1, [flow(1, pool=100)]), AGENT, T0 + 299.9)
    aggregator.add(datagram(2, [flow(2, pool=200)]), AGENT, T0 + 300.0)
    assert aggregator.close(before=T0 + 299.9) == []
    (first,) = aggregator.close(before=T0 + 300)
    assert first.start == datetime.fromtimestamp(T0, UTC) and first.seconds == 300
    (second,) = aggregator.close()
    assert second.start == datetime.fromtimestamp(T0 + 300, UTC)
    assert [a.datagrams for a in (*first.agents, *second.agents)] == [1, 1]
    assert aggregator.close() == []


def test_an_agent_address_not_accepted_is_refused_before_anything_is_kept() -> None:
    """The collector's allow-list: a spoofed agent address must not grow the state."""
    aggregator = buckets.Aggregator(accept=lambda agent: agent == bytes((192, 0, 2, 1)))
    aggregator.add(datagram(1, [flow(1, pool=100)]), AGENT, T0)
    for n in range(1, 50):
        spoofed = datagram(1, [flow(1, pool=100)], agent=f"203.0.113.{n}")
        aggregator.add(spoofed, AGENT, T0)
    bucket = one_bucket(aggregator)
    assert [a.agent for a in bucket.agents] == [AGENT] and aggregator.refused == 49
