"""Datagrams written byte by byte from the sFlow v5 specification's XDR layout.

The encoder in ``ixp.traffic.sflowgen`` and the decoder in ``ixp.traffic.sflow`` were
written together, so they could agree on the same mistake; these vectors come from
the specification's structures instead (sflow.org, "sFlow Version 5": one 32-bit
big-endian word per field, opaque data padded to a word) and pin both sides to it.
"""

from __future__ import annotations

import pytest

from ixp.traffic import sflow, sflowgen


def words(text: str) -> bytes:
    """Hex words with comments after '#' on each line, as the vectors below are written."""
    return bytes.fromhex("".join(line.split("#")[0] for line in text.splitlines()))


# IPv4 agent, one compact flow sample with a VLAN-tagged IPv6 frame's 18-byte header
# and an extended switch record.
IPV4_AGENT_FLOW = words("""
00000005  # version 5
00000001  # agent address type: IPv4
c0000201  # 192.0.2.1
00000007  # sub-agent id
01020304  # datagram sequence number
0036ee80  # uptime 3,600,000 ms
00000001  # one sample
00000001  # data format: enterprise 0, format 1 (flow sample)
00000064  # sample length 100
0000002a  # sample sequence number 42
00000011  # source id: type 0 (ifIndex), index 17
00000800  # sampling rate 2048
00015000  # sample pool 86016
00000003  # drops 3
00000011  # input: format 0, ifIndex 17
40000005  # output: format 1 (discarded), value 5
00000002  # two flow records
00000001  # record format 0:1, raw packet header
00000024  # record length 36
00000001  # header protocol 1: Ethernet
000005ee  # frame length 1518
00000004  # stripped 4 (the FCS)
00000012  # header length 18
02000000 00020200 00000001  # dst 02:00:00:00:00:02, src 02:00:00:00:00:01
81000064  # 802.1Q tag, VLAN 100
86dd0000  # ethertype IPv6, two bytes of padding
000003e9  # record format 0:1001, extended switch
00000010  # record length 16
00000064 00000000 00000064 00000000  # src VLAN 100, priority 0, dst VLAN 100, priority 0
""")

# IPv6 agent, an expanded flow sample (source index and input ifIndex too large for the
# compact form) with a Q-in-Q IPv4 frame, a sample of another enterprise, and an expanded
# counter sample with the generic interface counters and an Ethernet counters record.
IPV6_AGENT_EXPANDED = words("""
00000005  # version 5
00000002  # agent address type: IPv6
20010db8 00000000 00000000 00000001  # 2001:db8::1
00000000  # sub-agent id
00000009  # sequence number
00000064  # uptime 100 ms
00000003  # three samples
00000003  # format 0:3, expanded flow sample
0000005c  # length 92
00000001  # sample sequence number 1
00000000  # source type 0
01000000  # source index 16,777,216
00000100  # sampling rate 256
00000100  # sample pool 256
00000000  # drops 0
00000000 40000000  # input: format 0, ifIndex 1,073,741,824
00000000 00000002  # output: format 0, ifIndex 2
00000001  # one record
00000001  # raw packet header
00000028  # length 40
00000001 00000044 00000004 00000016  # Ethernet, frame 68, stripped 4, header 22
02000000 000a0200 0000000b  # dst 02:00:00:00:00:0a, src 02:00:00:00:00:0b
88a80064  # 802.1ad outer tag, VLAN 100
810007d0  # 802.1Q inner tag, VLAN 2000
08000000  # ethertype IPv4, padding
0113d005  # format: enterprise 4413, format 5 (not read)
00000004  # length 4
deadbeef  # its data
00000004  # format 0:4, expanded counter sample
000000ac  # length 172
00000007  # sample sequence number 7
00000000 00000003  # source type 0, index 3
00000002  # two records
00000001  # counter record 0:1, generic interface counters
00000058  # length 88
00000003  # ifIndex 3
00000006  # ifType 6 (ethernetCsmacd)
00000002 540be400  # ifSpeed 10,000,000,000
00000001  # ifDirection: full duplex
00000003  # ifStatus: admin and operationally up
00000001 00000000  # ifInOctets 4,294,967,296
00000064 00000002 00000003  # in: unicast, multicast, broadcast
00000004 00000005 00000006  # in: discards, errors, unknown protocols
00000000 000003e8  # ifOutOctets 1,000
000000c8 00000007 00000008  # out: unicast, multicast, broadcast
00000009 0000000a  # out: discards, errors
00000000  # promiscuous: false
00000002  # counter record 0:2, Ethernet interface counters (not read)
00000034  # length 52
00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
00000000 00000000 00000000
""")

# No agent address (type 0) and a compact flow sample with a 64-byte untagged IPv4 header:
# the layout the collector's fast path reads.
FAST_PATH_FLOW = words("""
00000005 00000000  # version 5, no agent address
00000000 00000001 00000001 00000001  # sub-agent 0, sequence 1, uptime 1 ms, one sample
00000001 00000078  # flow sample, length 120
00000005 00000021 00001000  # sample sequence 5, source 0:33, sampling rate 4096
00001000 00000000  # pool 4096, drops 0
00000021 00000022  # input 33, output 34
00000001  # one record
00000001 00000050  # raw packet header, length 80
00000001 00000200 00000004 00000040  # Ethernet, frame 512, stripped 4, header 64
0200000000020200 0000000108004500  # dst, src, ethertype IPv4, IPv4 header begins
01ec000040004006 0000c0000201c633  # (a TCP/IPv4 header, then zeros)
6401000000000000 0000000000000000
0000000000000000 0000000000000000
""")


def test_the_header_fields_of_an_ipv4_agent_datagram() -> None:
    datagram = sflow.decode(IPV4_AGENT_FLOW)
    assert (datagram.agent, datagram.sub_agent) == ("192.0.2.1", 7)
    assert (datagram.sequence, datagram.uptime_ms) == (0x01020304, 3_600_000)
    (sample,) = datagram.samples
    assert sample == sflow.FlowSample(
        expanded=False, sequence=42, source_type=0, source_index=17, sampling_rate=2048,
        sample_pool=86016, drops=3, input_format=0, input=17, output_format=1, output=5,
        records=(
            sflow.RawPacketHeader(1, 1518, 4, 18, IPV4_AGENT_FLOW[92:110]),
            sflow.OtherRecord(0, 1001, 16),
        ),
    )  # fmt: skip
    frame = sample.records[0].frame  # type: ignore[union-attr]
    assert frame == sflow.Frame(bytes.fromhex("020000000002"), bytes.fromhex("020000000001"), 100,
                                0x86DD)  # fmt: skip
    assert frame.ip_version == 6


def test_an_ipv6_agent_with_expanded_samples_and_formats_it_does_not_read() -> None:
    datagram = sflow.decode(IPV6_AGENT_EXPANDED)
    assert (datagram.agent, datagram.sequence, datagram.uptime_ms) == ("2001:db8::1", 9, 100)
    flow, other, counters = datagram.samples
    assert isinstance(flow, sflow.FlowSample) and flow.expanded
    assert (flow.source_type, flow.source_index) == (0, 1 << 24)
    assert (flow.input_format, flow.input, flow.output) == (0, 1 << 30, 2)
    header = flow.records[0]
    assert isinstance(header, sflow.RawPacketHeader) and header.header_length == 22
    assert header.frame == sflow.Frame(bytes.fromhex("02000000000a"),
                                       bytes.fromhex("02000000000b"), 100, 0x0800)  # fmt: skip
    assert other == sflow.OtherSample(enterprise=4413, format=5, length=4)
    assert isinstance(counters, sflow.CounterSample) and counters.expanded
    assert (counters.sequence, counters.source_type, counters.source_index) == (7, 0, 3)
    interface, ethernet = counters.records
    assert interface == sflow.InterfaceCounters(
        if_index=3, if_type=6, speed=10_000_000_000, direction=1, status=3,
        in_octets=1 << 32, in_unicast=100, in_multicast=2, in_broadcast=3, in_discards=4,
        in_errors=5, in_unknown_protocols=6, out_octets=1000, out_unicast=200,
        out_multicast=7, out_broadcast=8, out_discards=9, out_errors=10, promiscuous=0,
    )  # fmt: skip
    assert isinstance(interface, sflow.InterfaceCounters)
    assert (interface.in_packets, interface.out_packets) == (105, 215)
    assert ethernet == sflow.OtherRecord(enterprise=0, format=2, length=52)


def test_the_fast_path_layout_is_read_the_same_by_both_readers() -> None:
    agent, sub_agent, sequence, uptime, count, offset = sflow.read_header(FAST_PATH_FLOW)
    assert (agent, sub_agent, sequence, uptime, count, offset) == (b"", 0, 1, 1, 1, 24)
    cells: sflow.Cells = {}
    marks: sflow.Marks = {}
    assert sflow.tally(FAST_PATH_FLOW, offset, count, cells, marks, []) == 1
    l2 = bytes.fromhex("0200000000020200000000010800")
    assert {key: sflow.cell_counts(value) for key, value in cells.items()} == {
        (33, 33, 4096, l2): (1, 512)
    }
    assert marks == {33: (5, 4096, 0, 4096)}
    (sample,) = sflow.decode(FAST_PATH_FLOW).samples
    assert isinstance(sample, sflow.FlowSample)
    assert sflow.flow_cell(sample) == ((33, 33, 4096, l2), 512)


@pytest.mark.parametrize(
    "vector", [IPV4_AGENT_FLOW, IPV6_AGENT_EXPANDED, FAST_PATH_FLOW], ids=["v4", "v6", "fast"]
)
def test_the_encoder_writes_the_specification_bytes(vector: bytes) -> None:
    """Re-encode each vector from its decoded fields: the encoder matches the spec too."""
    datagram = sflow.decode(vector)
    samples = []
    for sample in datagram.samples:
        if isinstance(sample, sflow.OtherSample):
            body = bytes.fromhex("deadbeef")
            samples.append(sflowgen.opaque_sample(sample.enterprise, sample.format, body))
        elif isinstance(sample, sflow.CounterSample):
            interface = sample.records[0]
            assert isinstance(interface, sflow.InterfaceCounters)
            records = [
                sflowgen.interface_counters(interface),
                sflowgen.opaque_record(0, 2, bytes(52)),
            ]
            samples.append(
                sflowgen.counter_sample(
                    sample.sequence, sample.source_index, records, expanded=True
                )
            )
        else:
            samples.append(_flow_sample_from_vector(vector, sample))
    encoded = sflowgen.datagram(datagram.agent, datagram.sub_agent, datagram.sequence,
                                datagram.uptime_ms, samples)  # fmt: skip
    assert encoded == vector


def _flow_sample_from_vector(vector: bytes, sample: sflow.FlowSample) -> bytes:
    records = []
    for record in sample.records:
        if isinstance(record, sflow.RawPacketHeader):
            start = vector.index(record.l2)
            header = vector[start : start + record.header_length]
            records.append(sflowgen.raw_packet_header(record.frame_length, header,
                                                      stripped=record.stripped))  # fmt: skip
        else:
            records.append(sflowgen.extended_switch(100, 0, 100, 0))
    return sflowgen.flow_sample(
        sample.sequence, sample.source_index, sample.sampling_rate, sample.sample_pool,
        sample.drops, sample.input, sample.output, records, source_type=sample.source_type,
        input_format=sample.input_format, output_format=sample.output_format,
        expanded=sample.expanded,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "malformation"),
    [
        (words("00000004 00000001 c0000201"), sflow.Malformation.VERSION),
        (words("00000005 00000003") + bytes(40), sflow.Malformation.AGENT_ADDRESS),
        (IPV4_AGENT_FLOW[:20], sflow.Malformation.TRUNCATED),
        (IPV4_AGENT_FLOW[:-4], sflow.Malformation.TRUNCATED),
        (IPV4_AGENT_FLOW + bytes(4), sflow.Malformation.TRAILING),
        # The sample claims one more record than it holds.
        (IPV4_AGENT_FLOW[:64] + words("00000003") + IPV4_AGENT_FLOW[68:], "record"),
        # The packet header claims 40 bytes inside a record of 36.
        (IPV4_AGENT_FLOW[:88] + words("00000028") + IPV4_AGENT_FLOW[92:], "record"),
        # Interface counters record 4 bytes too short (and the sample lengths made to match).
        (
            IPV6_AGENT_EXPANDED[:156] + words("000000a8") + IPV6_AGENT_EXPANDED[160:180]
            + words("00000054") + IPV6_AGENT_EXPANDED[184:268] + IPV6_AGENT_EXPANDED[272:],
            sflow.Malformation.RECORD,
        ),
    ],
    ids=["version", "address", "header", "sample", "trailing", "records", "length", "counters"],
)  # fmt: skip
def test_malformed_datagrams_say_what_is_wrong(data: bytes, malformation: str) -> None:
    with pytest.raises(sflow.MalformedDatagram) as raised:
        sflow.decode(data)
    assert raised.value.malformation == malformation
