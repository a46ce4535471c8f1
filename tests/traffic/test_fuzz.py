"""Hostile datagrams: no exception escapes the collector path, and every datagram is counted.

Inputs are random bytes, random bytes behind a valid header, and valid datagrams
(of every sample kind) with a count or length field a little off, cut short, with
bits flipped, with a word overwritten by a telling value (0, 1, all ones) or with
bytes inserted or removed. For each: ``decode`` and the fast ``tally`` accept or
refuse it alike, for the same reason; what ``tally`` counts equals what ``decode`` reads; a refused
datagram adds nothing; and the aggregator's per-agent health adds up (received =
accepted + malformed, over every datagram fed).
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from ixp.traffic import buckets, sflow, sflowgen
from tests.traffic.strategies import datagrams, reference_tally

GENERATED = [
    p.payload for p in sflowgen.Stream(sflowgen.Spec(seed=5, samples_per_second=5)).packets(400)
]


def structure(data: bytes) -> list[int]:
    """Offsets of the words that give a valid datagram its shape: the sample count, each
    sample's length, each flow or counter sample's record count, each record's length and
    each packet header's length (walked here from the layout, not with the decoder)."""
    words = [24 if data[7] == 1 else 36 if data[7] == 2 else 20]
    count = struct.unpack_from(">I", data, words[0])[0]
    offset = words[0] + 4
    for _ in range(count):
        data_format, length = struct.unpack_from(">II", data, offset)
        words.append(offset + 4)
        fixed = {1: 28, 2: 8, 3: 40, 4: 12}.get(data_format)
        if fixed is not None:
            at = offset + 8 + fixed
            words.append(at)
            at += 4
            for _ in range(struct.unpack_from(">I", data, at - 4)[0]):
                record_format, record_length = struct.unpack_from(">II", data, at)
                words.append(at + 4)
                if data_format in (1, 3) and record_format == 1:
                    words.append(at + 8 + 12)
                at += 8 + (record_length + 3) // 4 * 4
        offset += 8 + (length + 3) // 4 * 4
    return words


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid datagram (drawn, or from a generated stream) damaged in one or a few ways."""
    data = bytearray(draw(st.one_of(datagrams().map(lambda b: b.data), st.sampled_from(GENERATED))))
    shape = structure(bytes(data))
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["shape", "shape", "cut", "flip", "word", "insert", "delete"]))
        if kind == "shape" and shape:
            at = draw(st.sampled_from(shape))
            if at + 4 <= len(data):
                old = struct.unpack_from(">I", data, at)[0]
                delta = draw(st.sampled_from([1, -1, 2, 4, -4, 8, -8, 16, 1 << 20, -old]))
                struct.pack_into(">I", data, at, (old + delta) & 0xFFFFFFFF)
            continue
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "cut":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "word" and len(data) >= 4:
            at -= at % 4
            old = struct.unpack_from(">I", data, min(at, len(data) - 4))[0]
            value = draw(st.sampled_from([0, 1, 0xFFFFFFFF, old + 4, old - 4, old + 1, 0x7FFFFFFF]))
            struct.pack_into(">I", data, min(at, len(data) - 4), value & 0xFFFFFFFF)
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 8))]
    return bytes(data)


behind_a_header = st.builds(
    lambda agent, rest: sflowgen.datagram(agent, 0, 1, 1, [])[:-4] + rest,
    st.sampled_from(["192.0.2.1", "2001:db8::1", ""]),
    st.binary(max_size=300),
)
hostile = st.one_of(st.binary(max_size=200), behind_a_header, mutated(), mutated(), mutated())


def outcome(data: bytes) -> tuple[str, sflow.Cells, sflow.Marks, list[sflow.Sample]] | str:
    """What ``decode`` makes of a datagram: its reference counts, or the malformation."""
    try:
        return ("ok", *reference_tally(sflow.decode(data)))
    except sflow.MalformedDatagram as exc:
        return str(exc.malformation)


@given(hostile)
def test_both_readers_accept_and_refuse_alike(data: bytes) -> None:
    expected = outcome(data)
    try:
        _, _, _, _, count, offset = sflow.read_header(data)
    except sflow.MalformedDatagram as exc:
        assert expected == exc.malformation
        return
    before = {(1, 2, 3, b"x"): 5 * sflow.SAMPLE + 500}
    cells = dict(before)
    marks: sflow.Marks = {}
    others: list[sflow.Sample] = []
    try:
        sflow.tally(data, offset, count, cells, marks, others)
    except sflow.MalformedDatagram as exc:
        assert expected == exc.malformation
        assert (cells, others) == (before, [])  # what it had added is taken back
        return
    assert isinstance(expected, tuple)
    _, expected_cells, expected_marks, expected_others = expected
    del cells[(1, 2, 3, b"x")]
    assert (cells, marks, others) == (expected_cells, expected_marks, expected_others)


@given(st.lists(st.tuples(hostile, st.sampled_from(["192.0.2.1", "198.51.100.7", "::1"]))))
def test_every_datagram_is_counted_once_and_only_readable_ones_reach_the_matrix(
    fed: list[tuple[bytes, str]],
) -> None:
    aggregator = buckets.Aggregator()
    reference: dict[tuple[str, str, int, int], list[int]] = {}
    for data, source in fed:
        aggregator.add(data, source, 1_700_000_000.0)
        result = outcome(data)
        if isinstance(result, tuple):
            for (_, _, rate, l2), value in result[1].items():
                samples, frame_bytes = sflow.cell_counts(value)
                frame = sflow.frame_of(l2)
                if frame is not None:
                    key = (frame.src_mac.hex(":"), frame.dst_mac.hex(":"), frame.vlan,
                           frame.ip_version)  # fmt: skip
                    total = reference.setdefault(key, [0, 0])
                    total[0] += samples
                    total[1] += frame_bytes * rate
    closed = aggregator.close()
    health = [agent for bucket in closed for agent in bucket.agents]
    assert sum(a.datagrams for a in health) == len(fed)
    for agent in health:
        assert agent.accepted_datagrams + agent.malformed_datagrams == agent.datagrams
        assert agent.accepted_datagrams >= 0
    assert sum(a.accepted_datagrams for a in health) == sum(
        isinstance(outcome(data), tuple) for data, _ in fed
    )
    found: dict[tuple[str, str, int, int], list[int]] = {}
    for cell in (c for bucket in closed for c in bucket.flows):
        total = found.setdefault((cell.src_mac, cell.dst_mac, cell.vlan, cell.ip_version), [0, 0])
        total[0] += cell.samples
        total[1] += cell.bytes
    assert found == reference
