"""sFlow version 5 datagrams, read for traffic accounting.

The layout (sflow.org, "sFlow Version 5", July 2004) is XDR (RFC 4506): big-endian
32-bit words, 64-bit counters as two words, and variable-length opaque data as its
length followed by the bytes, padded to a multiple of four::

    datagram             version (5) | agent address (type 1: 4 bytes, 2: 16 bytes,
                         0: none) | sub-agent id | sequence number | uptime (ms) | samples<>
    sample               data format (enterprise << 12 | format) | opaque sample data<>
    flow sample 0:1      sequence | source id (type << 24 | index) | sampling rate
                         | sample pool | drops | input | output (format << 30 | value)
                         | flow records<>
    expanded flow 0:3    the same, with the source id as type, index and each
                         interface as format, value (two words each)
    counters 0:2         sequence | source id | counter records<>
    expanded counters 0:4  sequence | source type | source index | counter records<>
    record               data format | opaque record data<>
    raw packet header    (flow record 0:1) header protocol (1: Ethernet) | frame length
                         | stripped | header<>
    interface counters   (counter record 0:1) 88 bytes, see ``InterfaceCounters``

Two readers share these rules. ``decode`` returns typed objects, for tests, tools and
the collector's rare cases (counter samples, unusual layouts). ``tally`` is the
collector's hot path: it adds each flow sample straight into a dictionary of counts
keyed by bytes, with one precompiled ``struct`` read per sample for the layout
switches send (a flow sample, compact or expanded, whose first record is an
Ethernet header, the rest skipped by their lengths) and no object per sample;
anything else goes through ``decode``'s functions, so both readers agree by
construction (and the tests check it on damaged datagrams too).

Of a sampled frame only its link-layer head is kept: destination and source MAC,
up to two VLAN tags (802.1Q, 802.1ad, the older 0x9100) and the ethertype after
them, which says whether it carries IPv4 or IPv6. Never an IP address or payload.

A datagram that does not follow the layout raises ``MalformedDatagram`` with a
``Malformation`` saying what was wrong; the collector counts it per agent and
carries on. Unknown sample and record formats are not errors: they are skipped by
their lengths.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass

from ixp.errors import SourceUnavailable

VERSION = 5
# Data formats of enterprise 0 (sflow.org's standard structures): enterprise << 12 | format.
FLOW_SAMPLE = 1
COUNTER_SAMPLE = 2
EXPANDED_FLOW_SAMPLE = 3
EXPANDED_COUNTER_SAMPLE = 4
RAW_PACKET_HEADER = 1  # a flow record
EXTENDED_SWITCH = 1001  # a flow record (VLANs and priorities in and out); skipped
GENERIC_INTERFACE_COUNTERS = 1  # a counter record
HEADER_ETHERNET = 1  # header protocol ETHERNET-ISO88023
ADDRESS_UNKNOWN, ADDRESS_IPV4, ADDRESS_IPV6 = 0, 1, 2
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
IP_VERSIONS = {ETHERTYPE_IPV4: 4, ETHERTYPE_IPV6: 6}  # the others are 0
# Tag protocol identifiers: 802.1Q, 802.1ad (the outer tag of Q-in-Q) and the pre-standard one.
VLAN_TPIDS = frozenset({0x8100, 0x88A8, 0x9100})
INTERFACE_COUNTERS_LENGTH = 88
_U32_MASK = 0xFFFFFFFF

_PAIR = struct.Struct(">II")
_U16 = struct.Struct(">H")
_HEADER_REST = struct.Struct(">IIII")  # sub-agent, sequence, uptime, number of samples
_FLOW = struct.Struct(">8I")  # sequence, source, rate, pool, drops, input, output, records
_EXPANDED_FLOW = struct.Struct(">11I")
_COUNTERS = struct.Struct(">3I")  # sequence, source, records
_EXPANDED_COUNTERS = struct.Struct(">4I")
_RAW_HEADER = struct.Struct(">4I")  # protocol, frame length, stripped, header length
_INTERFACE_COUNTERS = struct.Struct(">IIQIIQ6IQ6I")
# The hot path's one read per sample: a flow sample (compact or expanded) up to its first
# record's header protocol, frame length and header length, then the first frame's
# ethertype (MACs skipped); the sampled header starts right after.
_FAST = struct.Struct(">14I12xH")
_FAST_EXPANDED = struct.Struct(">17I12xH")
_FAST_HEADER_AT = 56  # offset of the sampled header in a compact sample's body
_FAST_EXPANDED_HEADER_AT = 68
_FAST_MIN_HEADER = 22  # room for two tags and the ethertype, so no bounds check is needed
assert _FAST.size == _FAST_HEADER_AT + 14 and _FAST_EXPANDED.size == _FAST_EXPANDED_HEADER_AT + 14
assert _INTERFACE_COUNTERS.size == INTERFACE_COUNTERS_LENGTH


class Malformation(enum.StrEnum):
    """What was wrong with a malformed datagram: the categories the collector counts."""

    TRUNCATED = "truncated"  # ends inside a header, sample or record
    VERSION = "version"  # not sFlow version 5
    AGENT_ADDRESS = "agent-address"  # an agent address type other than none, IPv4, IPv6
    SAMPLE = "sample"  # a sample's length or contents do not add up
    RECORD = "record"  # a record's length or contents do not add up
    TRAILING = "trailing"  # bytes left after the samples the header announced


class MalformedDatagram(SourceUnavailable):
    """A datagram that is not valid sFlow v5; the collector counts it and goes on."""

    def __init__(self, malformation: Malformation, detail: str) -> None:
        self.malformation = malformation
        super().__init__(f"malformed sFlow datagram ({malformation}): {detail}")


@dataclass(frozen=True, slots=True)
class Frame:
    """The link-layer head of a sampled Ethernet frame: all that accounting reads of it."""

    dst_mac: bytes
    src_mac: bytes
    vlan: int  # the outer tag's VLAN id; 0 when untagged
    ethertype: int  # after the tags

    @property
    def ip_version(self) -> int:
        """4 or 6 for IPv4 or IPv6 frames, 0 for anything else (ARP, LLDP, ...)."""
        return IP_VERSIONS.get(self.ethertype, 0)


@dataclass(frozen=True, slots=True)
class RawPacketHeader:
    """Flow record 0:1. ``l2`` is the sampled header's link-layer head only (see ``l2_head``)."""

    protocol: int
    frame_length: int  # of the original frame, FCS included
    stripped: int  # octets removed before the header was taken (the FCS, usually)
    header_length: int
    l2: bytes

    @property
    def frame(self) -> Frame | None:
        """The parsed head, or None when the header is not Ethernet or too short for MACs."""
        return frame_of(self.l2)


@dataclass(frozen=True, slots=True)
class OtherRecord:
    """A flow or counter record this module does not read, skipped by its length."""

    enterprise: int
    format: int
    length: int


@dataclass(frozen=True, slots=True)
class FlowSample:
    """A packet sample (0:1, or 0:3 when ``expanded``)."""

    expanded: bool
    sequence: int
    source_type: int  # 0: ifIndex, 1: VLAN, 2: physical entity
    source_index: int
    sampling_rate: int
    sample_pool: int  # packets the source has seen, sampled or not
    drops: int  # samples the agent dropped for lack of resources
    input_format: int  # 0: ifIndex (0 if unknown)
    input: int
    output_format: int  # 0: ifIndex, 1: discarded (value: reason), 2: several interfaces
    output: int
    records: tuple[RawPacketHeader | OtherRecord, ...]


@dataclass(frozen=True, slots=True)
class InterfaceCounters:
    """Counter record 0:1, the generic interface counters (the IF-MIB's, as the agent has them)."""

    if_index: int
    if_type: int
    speed: int  # bit/s
    direction: int  # 0: unknown, 1: full duplex, 2: half duplex, 3: in, 4: out
    status: int  # bit 0: admin up, bit 1: operationally up
    in_octets: int
    in_unicast: int
    in_multicast: int
    in_broadcast: int
    in_discards: int
    in_errors: int
    in_unknown_protocols: int
    out_octets: int
    out_unicast: int
    out_multicast: int
    out_broadcast: int
    out_discards: int
    out_errors: int
    promiscuous: int

    @property
    def in_packets(self) -> int:
        """Frames received (unicast + multicast + broadcast; 32-bit counters, they wrap)."""
        return (self.in_unicast + self.in_multicast + self.in_broadcast) & _U32_MASK

    @property
    def out_packets(self) -> int:
        """Frames sent (unicast + multicast + broadcast; 32-bit counters, they wrap)."""
        return (self.out_unicast + self.out_multicast + self.out_broadcast) & _U32_MASK


@dataclass(frozen=True, slots=True)
class CounterSample:
    """A counter sample (0:2, or 0:4 when ``expanded``)."""

    expanded: bool
    sequence: int
    source_type: int
    source_index: int
    records: tuple[InterfaceCounters | OtherRecord, ...]


@dataclass(frozen=True, slots=True)
class OtherSample:
    """A sample of a format this module does not read, skipped by its length."""

    enterprise: int
    format: int
    length: int


Sample = FlowSample | CounterSample | OtherSample


@dataclass(frozen=True, slots=True)
class Datagram:
    """One decoded datagram; ``agent`` is the agent's address as text, "" when it sent none."""

    agent: str
    sub_agent: int
    sequence: int
    uptime_ms: int
    samples: tuple[Sample, ...]


def read_header(data: bytes) -> tuple[bytes, int, int, int, int, int]:
    """(agent, sub-agent, sequence, uptime ms, number of samples, offset of the first sample).

    The agent is its address as raw bytes (4 or 16, empty when the agent sent none),
    the cheapest dictionary key; ``agent_text`` turns it into text. Raises
    ``MalformedDatagram`` when the header is cut short, the version is not 5 or the
    address type is unknown, or when more samples are announced than could fit.
    """
    try:
        version, address_type = _PAIR.unpack_from(data, 0)
        if version != VERSION:
            raise MalformedDatagram(Malformation.VERSION, f"version {version}")
        if address_type == ADDRESS_IPV4:
            offset = 12
        elif address_type == ADDRESS_IPV6:
            offset = 24
        elif address_type == ADDRESS_UNKNOWN:
            offset = 8
        else:
            raise MalformedDatagram(Malformation.AGENT_ADDRESS, f"address type {address_type}")
        sub_agent, sequence, uptime, count = _HEADER_REST.unpack_from(data, offset)
    except struct.error:
        raise MalformedDatagram(Malformation.TRUNCATED, "header cut short") from None
    first = offset + 16
    if count > (len(data) - first) >> 3:
        raise MalformedDatagram(Malformation.TRUNCATED, f"{count} samples cannot fit")
    return data[8:offset], sub_agent, sequence, uptime, count, first


def agent_text(agent: bytes) -> str:
    """An agent address from ``read_header`` as text ("" when the agent sent none)."""
    return str(ipaddress.ip_address(agent)) if agent else ""


def decode(data: bytes) -> Datagram:
    """The whole datagram as objects; raises ``MalformedDatagram`` and nothing else."""
    agent, sub_agent, sequence, uptime, count, offset = read_header(data)
    samples: list[Sample] = []
    try:
        for _ in range(count):
            sample, offset = _decode_sample(data, offset)
            samples.append(sample)
    except struct.error:
        raise MalformedDatagram(Malformation.TRUNCATED, "sample cut short") from None
    if offset != len(data):
        raise MalformedDatagram(Malformation.TRAILING, f"{len(data) - offset} bytes after samples")
    return Datagram(agent_text(agent), sub_agent, sequence, uptime, tuple(samples))


def _padded(length: int) -> int:
    """XDR opaque data takes its length rounded up to whole 32-bit words."""
    return (length + 3) & -4


def _decode_sample(data: bytes, offset: int) -> tuple[Sample, int]:
    """The sample at ``offset`` and the offset after it."""
    data_format, length = _PAIR.unpack_from(data, offset)
    body = offset + 8
    end = body + _padded(length)
    if end > len(data):
        raise MalformedDatagram(Malformation.TRUNCATED, f"sample of {length} bytes cut short")
    sample: Sample
    if data_format in (FLOW_SAMPLE, EXPANDED_FLOW_SAMPLE):
        sample = _decode_flow_sample(data, body, end, data_format == EXPANDED_FLOW_SAMPLE)
    elif data_format in (COUNTER_SAMPLE, EXPANDED_COUNTER_SAMPLE):
        sample = _decode_counter_sample(data, body, end, data_format == EXPANDED_COUNTER_SAMPLE)
    else:
        sample = OtherSample(data_format >> 12, data_format & 0xFFF, length)
    return sample, end


def _fixed(layout: struct.Struct, data: bytes, offset: int, end: int) -> tuple[int, ...]:
    """A sample's fixed fields, which must lie inside the sample."""
    if offset + layout.size > end:
        raise MalformedDatagram(Malformation.SAMPLE, "sample shorter than its fixed fields")
    return layout.unpack_from(data, offset)


def _records(data: bytes, offset: int, end: int, count: int) -> list[tuple[int, int, int]]:
    """(data format, body offset, length) of each record; together they fill the sample."""
    if count > (end - offset) >> 3:
        raise MalformedDatagram(Malformation.RECORD, f"{count} records cannot fit")
    found = []
    for _ in range(count):
        if offset + 8 > end:
            raise MalformedDatagram(Malformation.RECORD, "record header beyond its sample")
        data_format, length = _PAIR.unpack_from(data, offset)
        body = offset + 8
        offset = body + _padded(length)
        if offset > end:
            raise MalformedDatagram(Malformation.RECORD, f"record of {length} bytes beyond sample")
        found.append((data_format, body, length))
    if offset != end:
        raise MalformedDatagram(Malformation.SAMPLE, f"{end - offset} bytes after its records")
    return found


def _decode_flow_sample(data: bytes, body: int, end: int, expanded: bool) -> FlowSample:
    if expanded:
        (seq, source_type, source_index, rate, pool, drops, input_format, input_, output_format,
         output, n) = _fixed(_EXPANDED_FLOW, data, body, end)  # fmt: skip
        at = body + _EXPANDED_FLOW.size
    else:
        seq, source, rate, pool, drops, input_, output, n = _fixed(_FLOW, data, body, end)
        source_type, source_index = source_of(source)
        input_format, input_ = interface_of(input_)
        output_format, output = interface_of(output)
        at = body + _FLOW.size
    records: list[RawPacketHeader | OtherRecord] = []
    for data_format, offset, length in _records(data, at, end, n):
        if data_format == RAW_PACKET_HEADER:
            records.append(_decode_raw_header(data, offset, length))
        else:
            records.append(OtherRecord(data_format >> 12, data_format & 0xFFF, length))
    return FlowSample(
        expanded, seq, source_type, source_index, rate, pool, drops,
        input_format, input_, output_format, output, tuple(records),
    )  # fmt: skip


def _decode_raw_header(data: bytes, offset: int, length: int) -> RawPacketHeader:
    if length < _RAW_HEADER.size:
        raise MalformedDatagram(Malformation.RECORD, f"packet header record of {length} bytes")
    protocol, frame_length, stripped, header_length = _RAW_HEADER.unpack_from(data, offset)
    if header_length > length - _RAW_HEADER.size:
        raise MalformedDatagram(Malformation.RECORD, f"header of {header_length} bytes too long")
    start = offset + _RAW_HEADER.size
    l2 = l2_head(data, start, header_length) if protocol == HEADER_ETHERNET else b""
    return RawPacketHeader(protocol, frame_length, stripped, header_length, l2)


def _decode_counter_sample(data: bytes, body: int, end: int, expanded: bool) -> CounterSample:
    if expanded:
        seq, source_type, source_index, n = _fixed(_EXPANDED_COUNTERS, data, body, end)
        at = body + _EXPANDED_COUNTERS.size
    else:
        seq, source, n = _fixed(_COUNTERS, data, body, end)
        source_type, source_index = source_of(source)
        at = body + _COUNTERS.size
    records: list[InterfaceCounters | OtherRecord] = []
    for data_format, offset, length in _records(data, at, end, n):
        if data_format == GENERIC_INTERFACE_COUNTERS:
            if length < INTERFACE_COUNTERS_LENGTH:
                raise MalformedDatagram(Malformation.RECORD, f"counters of {length} bytes")
            records.append(InterfaceCounters(*_INTERFACE_COUNTERS.unpack_from(data, offset)))
        else:
            records.append(OtherRecord(data_format >> 12, data_format & 0xFFF, length))
    return CounterSample(expanded, seq, source_type, source_index, tuple(records))


def l2_head(data: bytes, start: int, length: int) -> bytes:
    """The link-layer head of the Ethernet header at ``data[start:start + length]``.

    Destination and source MAC, each VLAN tag that is wholly inside the header (at
    most two), and the ethertype after them: 14, 18 or 22 bytes, or b"" when the
    header is too short to hold the MACs and an ethertype.
    """
    if length < 14:
        return b""
    size = 14
    while (
        size < 22
        and size + 4 <= length
        and _U16.unpack_from(data, start + size - 2)[0] in VLAN_TPIDS
    ):
        size += 4
    return data[start : start + size]


def frame_of(l2: bytes) -> Frame | None:
    """The frame an ``l2_head`` describes, or None for b"" (no usable Ethernet header)."""
    fields = head_fields(l2)
    return Frame(*fields) if fields is not None else None


def head_fields(l2: bytes) -> tuple[bytes, bytes, int, int] | None:
    """(destination MAC, source MAC, outer VLAN, ethertype) of an ``l2_head``, as ``Frame``
    has them, without making one (closing a bucket reads a few hundred thousand)."""
    if not l2:
        return None
    vlan = (l2[14] << 8 | l2[15]) & 0xFFF if len(l2) > 14 else 0
    return l2[0:6], l2[6:12], vlan, l2[-2] << 8 | l2[-1]


# What ``tally`` adds flow samples into. A cell's key: (source, input, sampling rate, l2)
# where source and input are the compact forms (``source_key``, ``interface_key``) and l2
# an ``l2_head`` (b"" for a sample without a usable Ethernet header). Its value packs two
# counts in one integer, ``samples * SAMPLE + sum of frame lengths`` (``cell_counts``
# unpacks it): one dictionary update per sample instead of two list items. Frame
# lengths are 32-bit, so the sum cannot reach SAMPLE before 2**32 samples in one cell.
# Multiplying by the rate is left to whoever reads the cells, once per cell.
CellKey = tuple[int, int, int, bytes]
Cells = dict[CellKey, int]
SAMPLE = 1 << 64
_U64_MASK = SAMPLE - 1


def cell_counts(value: int) -> tuple[int, int]:
    """(samples, sum of their frame lengths) of a cell's value."""
    return value >> 64, value & _U64_MASK


# Per data source (``source_key``): (sequence, sample pool, drops, sampling rate) of its
# latest flow sample.
Mark = tuple[int, int, int, int]
Marks = dict[int, Mark]


def source_key(source_type: int, source_index: int) -> int:
    """A data source as one integer, equal to the compact sample's source id when it fits.

    Expanded samples can carry a type or index too large for the compact form; those
    are set apart above 2**64 so that the two forms never collide.
    """
    if source_type < 0x100 and source_index < 0x1000000:
        return source_type << 24 | source_index
    return 1 << 64 | source_type << 32 | source_index


def source_of(key: int) -> tuple[int, int]:
    """(type, index) of a ``source_key``."""
    if key >> 64:
        return (key >> 32) & _U32_MASK, key & _U32_MASK
    return key >> 24, key & 0xFFFFFF


def interface_key(interface_format: int, value: int) -> int:
    """An interface as one integer, equal to the compact sample's word when it fits."""
    if interface_format < 4 and value < 0x40000000:
        return interface_format << 30 | value
    return 1 << 64 | interface_format << 32 | value


def interface_of(key: int) -> tuple[int, int]:
    """(format, value) of an ``interface_key``."""
    if key >> 64:
        return (key >> 32) & _U32_MASK, key & _U32_MASK
    return key >> 30, key & 0x3FFFFFFF


def flow_cell(sample: FlowSample) -> tuple[CellKey, int]:
    """The cell a flow sample counts in and its frame length (0 without a packet header).

    The first raw packet header record describes the frame; a sample without one still
    counts, in the cell of frames without a usable Ethernet header.
    """
    header = next((r for r in sample.records if isinstance(r, RawPacketHeader)), None)
    key = (
        source_key(sample.source_type, sample.source_index),
        interface_key(sample.input_format, sample.input),
        sample.sampling_rate,
        header.l2 if header is not None else b"",
    )
    return key, header.frame_length if header is not None else 0


def tally(
    data: bytes, offset: int, count: int, cells: Cells, marks: Marks, others: list[Sample]
) -> int:
    """Add the datagram's flow samples into ``cells`` and ``marks``; return how many there were.

    ``offset`` and ``count`` come from ``read_header``. Counter samples and samples of
    other formats are appended to ``others``, decoded. A malformed datagram raises
    ``MalformedDatagram`` and leaves ``cells`` and ``others`` as they were (what its
    first samples added is taken back); ``marks`` keep the sequence numbers those
    samples carried, so they count as missed, which they are.
    """
    end = len(data)
    first = offset
    before = len(others)
    done = flows = 0
    # Locals: the loop below runs once per sample, a few million times a minute at most.
    pair, u16 = _PAIR.unpack_from, _U16.unpack_from
    fast, fast_expanded = _FAST.unpack_from, _FAST_EXPANDED.unpack_from
    tpids = VLAN_TPIDS
    cell_of = cells.get
    compact_length = _FAST_HEADER_AT + _FAST_MIN_HEADER
    expanded_length = _FAST_EXPANDED_HEADER_AT + _FAST_MIN_HEADER
    try:
        while done < count:
            data_format, length = pair(data, offset)
            body = offset + 8
            following = body + ((length + 3) & -4)
            if following > end:
                raise MalformedDatagram(Malformation.TRUNCATED, f"sample of {length} bytes")
            # Where the first record's sampled header starts; 0: not the fast layout.
            start = 0
            if data_format == FLOW_SAMPLE and length >= compact_length:
                (
                    seq,
                    source,
                    rate,
                    pool,
                    drops,
                    input_,
                    _,
                    n,
                    record_format,
                    record_length,
                    protocol,
                    frame_length,
                    _,
                    header_length,
                    ethertype,
                ) = fast(data, body)
                start = body + _FAST_HEADER_AT
            elif data_format == EXPANDED_FLOW_SAMPLE and length >= expanded_length:
                (
                    seq,
                    source_type,
                    source,
                    rate,
                    pool,
                    drops,
                    input_format,
                    input_,
                    _,
                    _,
                    n,
                    record_format,
                    record_length,
                    protocol,
                    frame_length,
                    _,
                    header_length,
                    ethertype,
                ) = fast_expanded(data, body)
                # Keys as source_key and interface_key make them, when the compact form fits.
                if (
                    source_type < 0x100
                    and source < 0x1000000
                    and input_format < 4
                    and input_ < 0x40000000
                ):
                    source |= source_type << 24
                    input_ |= input_format << 30
                    start = body + _FAST_EXPANDED_HEADER_AT
            if start:
                at = start - 16 + ((record_length + 3) & -4)  # the end of the first record
                if (
                    record_format == RAW_PACKET_HEADER
                    and protocol == HEADER_ETHERNET
                    and header_length >= _FAST_MIN_HEADER
                    and header_length + 16 <= record_length
                    and at <= following
                    and 0 < n <= ((following - at) >> 3) + 1
                ):
                    # The other records are skipped by their lengths; another packet
                    # header (which decode would check) sends the sample the slow way.
                    while n > 1 and at + 8 <= following:
                        record_format, record_length = pair(data, at)
                        if record_format == RAW_PACKET_HEADER:
                            break
                        at += 8 + ((record_length + 3) & -4)
                        n -= 1
                    if n == 1 and at == following:
                        if ethertype in tpids:
                            size = 22 if u16(data, start + 16)[0] in tpids else 18
                        else:
                            size = 14
                        key = (source, input_, rate, data[start : start + size])
                        cells[key] = cell_of(key, 0) + SAMPLE + frame_length
                        marks[source] = (seq, pool, drops, rate)
                        done += 1
                        flows += 1
                        offset = following
                        continue
            sample, offset = _decode_sample(data, offset)
            if isinstance(sample, FlowSample):
                _add(cells, sample, 1)
                marks[source_key(sample.source_type, sample.source_index)] = (
                    sample.sequence,
                    sample.sample_pool,
                    sample.drops,
                    sample.sampling_rate,
                )
                flows += 1
            else:
                others.append(sample)
            done += 1
        if offset != end:
            raise MalformedDatagram(Malformation.TRAILING, f"{end - offset} bytes after samples")
    except (MalformedDatagram, struct.error) as exc:
        _take_back(data, first, done, cells)
        del others[before:]
        if isinstance(exc, MalformedDatagram):
            raise
        raise MalformedDatagram(Malformation.TRUNCATED, "sample cut short") from None
    return flows


def _add(cells: Cells, sample: FlowSample, sign: int) -> None:
    """Count a decoded flow sample in its cell (``sign`` -1 takes it back)."""
    key, frame_length = flow_cell(sample)
    value = cells.get(key, 0) + sign * (SAMPLE + frame_length)
    if value:
        cells[key] = value
    else:
        del cells[key]


def _take_back(data: bytes, offset: int, done: int, cells: Cells) -> None:
    """Undo what the first ``done`` samples of a datagram found malformed added to ``cells``."""
    for _ in range(done):
        sample, offset = _decode_sample(data, offset)
        if isinstance(sample, FlowSample):
            _add(cells, sample, -1)
