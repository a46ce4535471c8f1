"""Hypothesis strategies: valid sFlow v5 datagrams of every sample and record kind, with what
they must decode to (built from the inputs, not from the decoder)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hypothesis import strategies as st

from ixp.traffic import sflow, sflowgen

U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)


@dataclass(frozen=True)
class Built:
    """An encoded datagram and the ``sflow.Datagram`` it must decode to."""

    data: bytes
    expected: sflow.Datagram


def expected_l2(header: bytes, tags: int) -> bytes:
    """The link-layer head a header of ``tags`` VLAN tags must give: tags wholly inside only."""
    if len(header) < 14:
        return b""
    inside = min(tags, (len(header) - 14) // 4)
    return header[: 14 + 4 * inside]


@st.composite
def raw_headers(draw: st.DrawFn) -> tuple[bytes, sflow.RawPacketHeader]:
    """A raw packet header record: Ethernet with 0-2 tags, IPv4/IPv6/ARP, any capture length
    (some too short for the tags or even the MACs), or now and then another protocol."""
    tags = draw(st.integers(0, 2))
    ip_version = draw(st.sampled_from([4, 6, 0]))
    frame_length = draw(st.integers(64 + 4 * tags, 9216))
    header = sflowgen.ethernet_header(
        draw(st.binary(min_size=6, max_size=6)),
        draw(st.binary(min_size=6, max_size=6)),
        vlans=draw(st.lists(st.integers(1, 4094), min_size=tags, max_size=tags)),
        ip_version=ip_version,
        frame_length=frame_length,
        snap=draw(st.integers(0, 256)),
        host=draw(st.integers(1, 65535)),
    )
    protocol = draw(st.sampled_from([sflow.HEADER_ETHERNET] * 5 + [11, 12]))
    stripped = draw(st.integers(0, 8))
    encoded = sflowgen.raw_packet_header(frame_length, header, stripped=stripped, protocol=protocol)
    l2 = expected_l2(header, tags) if protocol == sflow.HEADER_ETHERNET else b""
    return encoded, sflow.RawPacketHeader(protocol, frame_length, stripped, len(header), l2)


@st.composite
def other_records(draw: st.DrawFn) -> tuple[bytes, sflow.OtherRecord]:
    """A record of a format the decoder skips (switch data, or anything of another enterprise)."""
    if draw(st.booleans()):
        vlans = draw(st.lists(st.integers(0, 4095), min_size=4, max_size=4))
        return sflowgen.extended_switch(*vlans), sflow.OtherRecord(0, sflow.EXTENDED_SWITCH, 16)
    enterprise = draw(st.integers(1, 2**20 - 1))
    data_format = draw(st.integers(0, 4095))
    body = draw(st.binary(max_size=40))
    encoded = sflowgen.opaque_record(enterprise, data_format, body)
    return encoded, sflow.OtherRecord(enterprise, data_format, len(body))


@st.composite
def flow_samples(draw: st.DrawFn) -> tuple[bytes, sflow.FlowSample]:
    expanded = draw(st.booleans())
    records = draw(st.lists(st.one_of(raw_headers(), other_records()), max_size=4))
    if expanded and draw(st.booleans()):
        # Values too large for the compact form: the reason expanded samples exist.
        source_type, source_index = draw(U32), draw(U32)
        input_format, input_, output_format, output = draw(U32), draw(U32), draw(U32), draw(U32)
    else:
        source_type, source_index = draw(st.integers(0, 255)), draw(st.integers(0, 2**24 - 1))
        input_format, output_format = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        input_, output = draw(st.integers(0, 2**30 - 1)), draw(st.integers(0, 2**30 - 1))
    sequence, rate, pool, drops = draw(U32), draw(U32), draw(U32), draw(U32)
    encoded = sflowgen.flow_sample(
        sequence, source_index, rate, pool, drops, input_, output, [r[0] for r in records],
        source_type=source_type, input_format=input_format, output_format=output_format,
        expanded=expanded,
    )  # fmt: skip
    sample = sflow.FlowSample(
        expanded, sequence, source_type, source_index, rate, pool, drops, input_format, input_,
        output_format, output, tuple(r[1] for r in records),
    )  # fmt: skip
    return encoded, sample


@st.composite
def interface_counters(draw: st.DrawFn) -> sflow.InterfaceCounters:
    u32 = [draw(U32) for _ in range(15)]
    return sflow.InterfaceCounters(
        u32[0], u32[1], draw(U64), u32[2], u32[3], draw(U64), *u32[4:10], draw(U64), *u32[10:15],
        draw(U32),
    )  # fmt: skip


@st.composite
def counter_samples(draw: st.DrawFn) -> tuple[bytes, sflow.CounterSample]:
    expanded = draw(st.booleans())
    if expanded:
        source_type, source_index = draw(U32), draw(U32)
    else:
        source_type, source_index = draw(st.integers(0, 255)), draw(st.integers(0, 2**24 - 1))
    records: list[tuple[bytes, sflow.InterfaceCounters | sflow.OtherRecord]] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            counters = draw(interface_counters())
            records.append((sflowgen.interface_counters(counters), counters))
        else:
            records.append(draw(other_records()))
    sequence = draw(U32)
    encoded = sflowgen.counter_sample(
        sequence, source_index, [r[0] for r in records], source_type=source_type, expanded=expanded
    )
    sample = sflow.CounterSample(
        expanded, sequence, source_type, source_index, tuple(r[1] for r in records)
    )
    return encoded, sample


@st.composite
def other_samples(draw: st.DrawFn) -> tuple[bytes, sflow.OtherSample]:
    """A sample of another enterprise, or of enterprise 0 with a format that is not 1-4."""
    enterprise = draw(st.integers(0, 2**20 - 1))
    data_format = draw(st.integers(5, 4095) if enterprise == 0 else st.integers(0, 4095))
    body = draw(st.binary(max_size=64))
    encoded = sflowgen.opaque_sample(enterprise, data_format, body)
    return encoded, sflow.OtherSample(enterprise, data_format, len(body))


agents = st.one_of(
    st.just(""),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)


@st.composite
def datagrams(draw: st.DrawFn, *, max_samples: int = 6) -> Built:
    """A valid datagram of any mix of samples, and what it must decode to."""
    samples = draw(
        st.lists(
            st.one_of(flow_samples(), flow_samples(), counter_samples(), other_samples()),
            max_size=max_samples,
        )
    )
    agent = draw(agents)
    sub_agent, sequence, uptime = draw(U32), draw(U32), draw(U32)
    data = sflowgen.datagram(agent, sub_agent, sequence, uptime, [s[0] for s in samples])
    text = str(ipaddress.ip_address(agent)) if agent else ""
    expected = sflow.Datagram(text, sub_agent, sequence, uptime, tuple(s[1] for s in samples))
    return Built(data, expected)


def reference_tally(
    datagram: sflow.Datagram,
) -> tuple[sflow.Cells, sflow.Marks, list[sflow.Sample]]:
    """What ``sflow.tally`` must add for a datagram, worked out from its decoded samples."""
    cells: sflow.Cells = {}
    marks: sflow.Marks = {}
    others: list[sflow.Sample] = []
    for sample in datagram.samples:
        if not isinstance(sample, sflow.FlowSample):
            others.append(sample)
            continue
        key, frame_length = sflow.flow_cell(sample)
        cells[key] = cells.get(key, 0) + sflow.SAMPLE + frame_length
        source = sflow.source_key(sample.source_type, sample.source_index)
        marks[source] = (sample.sequence, sample.sample_pool, sample.drops, sample.sampling_rate)
    return cells, marks, others
