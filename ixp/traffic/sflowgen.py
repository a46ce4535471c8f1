"""Valid sFlow v5 datagrams, written from scratch: for tests, the benchmark and the demo.

Two layers. The encoders (``datagram``, ``flow_sample``, ``counter_sample``,
``raw_packet_header``, ``extended_switch``, ``interface_counters``, ``opaque_sample``,
``opaque_record``, ``ethernet_header``) write exactly the XDR layout that
``ixp.traffic.sflow`` documents, one structure at a time, so a test can put together
any datagram, including ones no switch sends.

``Stream`` simulates an exchange's switches: several agents (some with IPv6 agent
addresses, some sending expanded samples), member routers behind untagged, 802.1Q
or Q-in-Q ports, a traffic mix between member pairs drawn from a seeded RNG
(heavy-tailed, as real peering matrices are), frames of realistic sizes carrying
IPv4 or IPv6, and samples batched into datagrams of at most ``max_datagram`` bytes
(5 to 10 samples, as switches send them), with sequence numbers, sample pools, drop
counters and interface counter samples consistent with the traffic. The same seed
gives the same bytes. ``expected`` keeps what was sent, so a test can check a
collector against the truth; ``write_pcap`` and ``read_pcap`` store a stream as a
libpcap savefile (UDP over IPv4 over Ethernet), which ``sfacctd`` can replay.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import math
import random
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from ixp.traffic import sflow

_U32 = struct.Struct(">I")
_PAIR = struct.Struct(">II")
_FLOW = struct.Struct(">8I")
_EXPANDED_FLOW = struct.Struct(">11I")
_COUNTERS = struct.Struct(">3I")
_EXPANDED_COUNTERS = struct.Struct(">4I")
_INTERFACE_COUNTERS = struct.Struct(">IIQIIQ6IQ6I")
_SNAP = 128  # the header length switches sample by default
_DOCUMENTATION_V6 = 0x20010DB8 << 96  # 2001:db8::/32
_FCS = 4


def _opaque(body: bytes) -> bytes:
    """XDR variable-length opaque data: the length, the bytes, zeros up to a 32-bit boundary."""
    return _U32.pack(len(body)) + body + bytes(-len(body) % 4)


def opaque_sample(enterprise: int, data_format: int, body: bytes) -> bytes:
    """A sample of any format with the given body (what a decoder must skip if it is unknown)."""
    return _U32.pack(enterprise << 12 | data_format) + _opaque(body)


def opaque_record(enterprise: int, data_format: int, body: bytes) -> bytes:
    """A flow or counter record of any format with the given body."""
    return opaque_sample(enterprise, data_format, body)


def datagram(
    agent: str, sub_agent: int, sequence: int, uptime_ms: int, samples: Sequence[bytes]
) -> bytes:
    """A datagram from encoded samples; ``agent`` "" sends no agent address (type 0)."""
    if agent:
        address = ipaddress.ip_address(agent)
        kind = sflow.ADDRESS_IPV4 if address.version == 4 else sflow.ADDRESS_IPV6
        head = _PAIR.pack(sflow.VERSION, kind) + address.packed
    else:
        head = _PAIR.pack(sflow.VERSION, sflow.ADDRESS_UNKNOWN)
    rest = struct.pack(">IIII", sub_agent, sequence, uptime_ms, len(samples))
    return head + rest + b"".join(samples)


def flow_sample(
    sequence: int,
    source_index: int,
    sampling_rate: int,
    sample_pool: int,
    drops: int,
    input_: int,
    output: int,
    records: Sequence[bytes],
    *,
    source_type: int = 0,
    input_format: int = 0,
    output_format: int = 0,
    expanded: bool = False,
) -> bytes:
    """A flow sample (0:1), or an expanded one (0:3), from encoded records."""
    if expanded:
        fixed = _EXPANDED_FLOW.pack(
            sequence, source_type, source_index, sampling_rate, sample_pool, drops,
            input_format, input_, output_format, output, len(records),
        )  # fmt: skip
    else:
        fixed = _FLOW.pack(
            sequence, source_type << 24 | source_index, sampling_rate, sample_pool, drops,
            input_format << 30 | input_, output_format << 30 | output, len(records),
        )  # fmt: skip
    data_format = sflow.EXPANDED_FLOW_SAMPLE if expanded else sflow.FLOW_SAMPLE
    return opaque_sample(0, data_format, fixed + b"".join(records))


def counter_sample(
    sequence: int,
    source_index: int,
    records: Sequence[bytes],
    *,
    source_type: int = 0,
    expanded: bool = False,
) -> bytes:
    """A counter sample (0:2), or an expanded one (0:4), from encoded records."""
    if expanded:
        fixed = _EXPANDED_COUNTERS.pack(sequence, source_type, source_index, len(records))
    else:
        fixed = _COUNTERS.pack(sequence, source_type << 24 | source_index, len(records))
    data_format = sflow.EXPANDED_COUNTER_SAMPLE if expanded else sflow.COUNTER_SAMPLE
    return opaque_sample(0, data_format, fixed + b"".join(records))


def raw_packet_header(
    frame_length: int, header: bytes, *, stripped: int = _FCS, protocol: int = sflow.HEADER_ETHERNET
) -> bytes:
    """Flow record 0:1: the first bytes of a sampled frame and the frame's whole length."""
    body = struct.pack(">III", protocol, frame_length, stripped) + _opaque(header)
    return opaque_record(0, sflow.RAW_PACKET_HEADER, body)


def extended_switch(src_vlan: int, src_priority: int, dst_vlan: int, dst_priority: int) -> bytes:
    """Flow record 0:1001 (switch data), which switches send beside the packet header."""
    body = struct.pack(">IIII", src_vlan, src_priority, dst_vlan, dst_priority)
    return opaque_record(0, sflow.EXTENDED_SWITCH, body)


def interface_counters(counters: sflow.InterfaceCounters) -> bytes:
    """Counter record 0:1, the generic interface counters."""
    values = [getattr(counters, f.name) for f in fields(counters)]
    return opaque_record(0, sflow.GENERIC_INTERFACE_COUNTERS, _INTERFACE_COUNTERS.pack(*values))


def ethernet_header(
    dst_mac: bytes,
    src_mac: bytes,
    *,
    vlans: Sequence[int] = (),
    ip_version: int = 4,
    frame_length: int = 1518,
    snap: int = _SNAP,
    host: int = 1,
) -> bytes:
    """The first ``snap`` bytes of an Ethernet frame as a switch samples them.

    ``vlans`` holds no tag, one 802.1Q tag, or two (an 802.1ad outer tag and an
    802.1Q inner one). The frame carries IPv4 or IPv6 (0: ARP) with documentation
    addresses picked by ``host``, then TCP, then zeros; the capture ends at the
    frame's end less its FCS.
    """
    tags = b""
    for position, vlan in enumerate(vlans):
        tpid = 0x88A8 if position == 0 and len(vlans) == 2 else 0x8100
        tags += struct.pack(">HH", tpid, vlan)
    l2_size = 14 + len(tags)
    ip_length = frame_length - _FCS - l2_size
    low, high = host & 0xFF, (host >> 8) & 0xFF
    if ip_version == 4:
        payload = struct.pack(">BBHHHBBH", 0x45, 0, ip_length, 0, 0x4000, 64, 6, 0)
        payload += bytes((192, 0, 2, low, 198, 51, 100, high))
    elif ip_version == 6:
        payload = struct.pack(">IHBB", 0x60000000, ip_length - 40, 6, 64)
        payload += (_DOCUMENTATION_V6 | host & 0xFFFFFFFF).to_bytes(16, "big")
        payload += (_DOCUMENTATION_V6 | 1 << 80 | host & 0xFFFFFFFF).to_bytes(16, "big")
    else:
        payload = bytes.fromhex("0001080006040001") + src_mac + bytes(4) + bytes(10)
    ethertype = {4: sflow.ETHERTYPE_IPV4, 6: sflow.ETHERTYPE_IPV6}.get(ip_version, 0x0806)
    payload += struct.pack(">HHIIHHHH", 443, 50000 + low, host, 0, 0x5010, 65535, 0, 0)
    frame = dst_mac + src_mac + tags + struct.pack(">H", ethertype) + payload
    frame += bytes(max(0, frame_length - _FCS - len(frame)))
    return frame[: min(snap, frame_length - _FCS)]


@dataclass(frozen=True, slots=True)
class Packet:
    """One datagram as it arrives: when (simulated seconds), from which UDP source, the bytes."""

    time: float
    source: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Spec:
    """What to simulate. The defaults are a small exchange; the benchmark scales them up."""

    seed: int = 1
    agents: int = 4
    ipv6_agents: int = 1  # the last ones get IPv6 agent addresses
    expanded_agents: int = 1  # the first ones send expanded flow and counter samples
    members: int = 40
    sampling_rate: int = 4096
    ipv6_share: float = 0.3  # of the frames of a pair that speaks IPv6 at all
    tagged_share: float = 0.3  # members whose port sends 802.1Q-tagged frames
    qinq_share: float = 0.1  # members whose port sends Q-in-Q frames
    peering_share: float = 0.6  # member pairs that exchange traffic at all
    vlan: int = 100  # the peering LAN
    max_samples: int = 10  # per datagram, and no more than max_datagram bytes
    max_datagram: int = 1400
    samples_per_second: float = 20_000.0  # the simulated sampled load, for timestamps
    counter_interval: float = 20.0  # seconds between counter samples of each port
    lose: float = 0.0  # share of datagrams lost on the way (their sequence numbers skipped)
    drop_share: float = 0.0  # share of samples the agent drops for lack of resources
    start: float = 1_700_000_000.0  # the simulated time of the first sample (mid-bucket)
    # How the load follows the time of day: samples_per_second times 1 + diurnal * a sine
    # peaking at 15:00 UTC (evening in South Asia and East Africa); 0: a constant load.
    diurnal: float = 0.0


# What a stream sent, as a collector should count it: (src MAC, dst MAC, outer VLAN, IP version).
Cell = tuple[bytes, bytes, int, int]


@dataclass(slots=True)
class _Port:
    """A member's port: the agent it is on, its ifIndex and counters, and its frames' tags."""

    agent: int
    if_index: int
    vlans: tuple[int, ...]
    sequence: int = 0  # of flow samples
    pool: int = 0
    drops: int = 0
    counter_sequence: int = 0
    in_octets: int = 0
    in_packets: int = 0
    out_octets: int = 0
    out_packets: int = 0


@dataclass(slots=True)
class _Agent:
    address: str
    source: str  # the UDP source address (IPv4, so the savefile stays simple)
    expanded: bool
    boot: float  # simulated time it started
    sequence: int = 0
    pending: list[bytes] = field(default_factory=list)
    pending_size: int = 0
    pending_truth: list[tuple[Cell, int]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)  # indexes into Stream.ports
    next_counters: float = 0.0


# Frame sizes at an exchange: many small frames (ACKs), many full ones.
_SIZE_BANDS = ((64, 127, 0.35), (128, 575, 0.1), (576, 1499, 0.15), (1518, 1518, 0.4))


class Stream:
    """A simulated exchange's sFlow stream; ``packets`` writes it, ``expected`` keeps the truth."""

    def __init__(self, spec: Spec | None = None, macs: Sequence[bytes] = ()) -> None:
        """``macs`` are the members' router MACs (the first ``len(macs)`` members'; the others
        get ``02:1a:00:00:hi:lo`` by their index)."""
        self.spec = spec = spec or Spec()
        self._rng = random.Random(spec.seed)
        rng = self._rng
        self.agents = [
            _Agent(
                address=(
                    f"2001:db8:ffff::{i + 1:x}"
                    if i >= spec.agents - spec.ipv6_agents
                    else f"192.0.2.{i + 1}"
                ),
                source=f"192.0.2.{i + 1}",
                expanded=i < spec.expanded_agents,
                boot=spec.start - rng.uniform(3600, 86400 * 30),
                next_counters=spec.start + rng.uniform(0, spec.counter_interval),
            )
            for i in range(spec.agents)
        ]
        self.macs = [bytes((0x02, 0x1A, 0, 0, i >> 8, i & 0xFF)) for i in range(spec.members)]
        self.macs[: len(macs)] = macs
        self.ports: list[_Port] = []
        for member in range(spec.members):
            agent = member % spec.agents
            draw = rng.random()
            if draw < spec.qinq_share:
                vlans: tuple[int, ...] = (spec.vlan, 2000 + member)
            elif draw < spec.qinq_share + spec.tagged_share:
                vlans = (spec.vlan,)
            else:
                vlans = ()
            if_index = 1000 + member
            self.ports.append(_Port(agent, if_index, vlans))
            self.agents[agent].ports.append(member)
        self._pairs, self._weights, self._ipv6 = self._traffic_mix()
        self._time = spec.start
        # Per cell of the samples that arrived: [samples, bytes scaled by the sampling rate].
        self.expected: dict[Cell, list[int]] = {}
        self.lost: list[tuple[str, int]] = []  # (agent address, sequence) of datagrams lost

    def _traffic_mix(self) -> tuple[list[tuple[int, int]], list[float], list[bool]]:
        """Member pairs that exchange traffic, their cumulative weights, whether they use IPv6.

        A member's size is Pareto-distributed (a few large networks carry most of the
        traffic); a pair's weight is the product of the two sizes times a log-normal
        affinity, so the matrix is dense for large members and sparse for small ones.
        """
        rng, spec = self._rng, self.spec
        size = [rng.paretovariate(1.2) for _ in range(spec.members)]
        pairs, weights, ipv6 = [], [], []
        total = 0.0
        for a, b in itertools.permutations(range(spec.members), 2):
            if rng.random() >= spec.peering_share:
                continue
            total += size[a] * size[b] * rng.lognormvariate(0, 1)
            pairs.append((a, b))
            weights.append(total)
            ipv6.append(rng.random() < 0.7)
        return pairs, weights, ipv6

    def pair_shares(self) -> list[tuple[int, int, float, bool]]:
        """(source member, destination member, share of all frames, speaks IPv6) per pair
        that exchanges traffic: the model the stream draws from, for estimates built on it."""
        total = self._weights[-1] if self._weights else 1.0
        previous = 0.0
        shares = []
        for (src, dst), weight, ipv6 in zip(self._pairs, self._weights, self._ipv6, strict=True):
            shares.append((src, dst, (weight - previous) / total, ipv6))
            previous = weight
        return shares

    def packets(self, samples: int) -> Iterator[Packet]:
        """Datagrams carrying ``samples`` more flow samples, with counter samples in between.

        Datagrams still pending at the end are sent, so every sample is in some datagram
        (unless ``lose`` loses it).
        """
        spec, rng = self.spec, self._rng
        step = 1.0 / spec.samples_per_second
        top = self._weights[-1] if self._weights else 0.0
        for _ in range(samples):
            if spec.diurnal:
                phase = 2 * math.pi * ((self._time / 3600 - 9) % 24) / 24
                self._time += step / (1 + spec.diurnal * math.sin(phase))
            else:
                self._time += step
            if not self._pairs:
                break
            pick = bisect.bisect_right(self._weights, rng.random() * top)
            pair = min(pick, len(self._pairs) - 1)
            src, dst = self._pairs[pair]
            port = self.ports[src]
            agent = self.agents[port.agent]
            yield from self._counters(agent)
            made = self._flow_sample(src, dst, self._ipv6[pair])
            if made is None:
                continue
            sample, truth = made
            if agent.pending and (
                len(agent.pending) >= spec.max_samples
                or agent.pending_size + len(sample) > spec.max_datagram - 40
            ):
                yield from self._send(agent)
            agent.pending.append(sample)
            agent.pending_size += len(sample)
            agent.pending_truth.append(truth)
        for agent in self.agents:
            if agent.pending:
                yield from self._send(agent)

    def _flow_sample(self, src: int, dst: int, ipv6: bool) -> tuple[bytes, tuple[Cell, int]] | None:
        """One sampled frame from ``src`` to ``dst`` and its truth; None if the agent drops it."""
        spec, rng = self.spec, self._rng
        port = self.ports[src]
        agent = self.agents[port.agent]
        rate = spec.sampling_rate
        low, high, _ = rng.choices(_SIZE_BANDS, weights=[b[2] for b in _SIZE_BANDS])[0]
        frame_length = rng.randint(low, high) + 4 * len(port.vlans)
        ip_version = 6 if ipv6 and rng.random() < spec.ipv6_share else 4
        port.pool += rate
        self._count_traffic(port, self.ports[dst], frame_length, rate)
        if rng.random() < spec.drop_share:
            port.drops += 1
            return None
        port.sequence += 1
        header = ethernet_header(
            self.macs[dst], self.macs[src], vlans=port.vlans, ip_version=ip_version,
            frame_length=frame_length, host=src * 256 + dst,
        )  # fmt: skip
        dst_port = self.ports[dst]
        same_agent = dst_port.agent == port.agent
        records = [
            raw_packet_header(frame_length, header),
            extended_switch(spec.vlan, 0, spec.vlan, 0),
        ]
        vlan = port.vlans[0] if port.vlans else 0
        cell = (self.macs[src], self.macs[dst], vlan, ip_version)
        sample = flow_sample(
            port.sequence, port.if_index, rate, port.pool, port.drops, port.if_index,
            dst_port.if_index if same_agent else 1, records, expanded=agent.expanded,
        )  # fmt: skip
        return sample, (cell, frame_length * rate)

    def _count_traffic(self, port: _Port, dst_port: _Port, frame_length: int, rate: int) -> None:
        """What the ports' interface counters see: the sampled frame stands for ``rate`` frames."""
        port.in_octets += frame_length * rate
        port.in_packets += rate
        dst_port.out_octets += frame_length * rate
        dst_port.out_packets += rate

    def _counters(self, agent: _Agent) -> Iterator[Packet]:
        """The agent's counter samples, when their interval has come (a datagram per 10 ports)."""
        if self._time < agent.next_counters:
            return
        agent.next_counters += self.spec.counter_interval
        samples = []
        for member in agent.ports:
            port = self.ports[member]
            port.counter_sequence += 1
            counters = sflow.InterfaceCounters(
                port.if_index, 6, 100_000_000_000, 1, 3,
                port.in_octets & (2**64 - 1), port.in_packets & 0xFFFFFFFF, 0, 0, 0, 0, 0,
                port.out_octets & (2**64 - 1), port.out_packets & 0xFFFFFFFF, 0, 0, 0, 0, 0,
            )  # fmt: skip
            samples.append(
                counter_sample(
                    port.counter_sequence,
                    port.if_index,
                    [interface_counters(counters)],
                    expanded=agent.expanded,
                )
            )
        for start in range(0, len(samples), 10):
            yield from self._datagram(agent, samples[start : start + 10])

    def _send(self, agent: _Agent) -> Iterator[Packet]:
        """The agent's pending flow samples as one datagram; their truth recorded if it arrives."""
        for sent in self._datagram(agent, agent.pending):
            for cell, scaled in agent.pending_truth:
                counts = self.expected.setdefault(cell, [0, 0])
                counts[0] += 1
                counts[1] += scaled
            yield sent
        agent.pending = []
        agent.pending_size = 0
        agent.pending_truth = []

    def _datagram(self, agent: _Agent, samples: Sequence[bytes]) -> Iterator[Packet]:
        """Number and stamp a datagram; it is lost (not yielded) with probability ``lose``."""
        agent.sequence += 1
        if self._rng.random() < self.spec.lose:
            self.lost.append((agent.address, agent.sequence))
            return
        uptime = int((self._time - agent.boot) * 1000) & 0xFFFFFFFF
        payload = datagram(agent.address, 0, agent.sequence, uptime, samples)
        yield Packet(self._time, agent.source, payload)


_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
_PCAP_MAGIC = 0xA1B2C3D4
_LINKTYPE_ETHERNET = 1


def _ipv4_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(packets: Iterable[Packet], path: Path, *, port: int = 6343) -> int:
    """Store datagrams as a libpcap savefile of UDP/IPv4 frames to ``port``; return how many."""
    count = 0
    with path.open("wb") as out:
        out.write(_PCAP_HEADER.pack(_PCAP_MAGIC, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET))
        for packet in packets:
            udp = struct.pack(">HHHH", port, port, 8 + len(packet.payload), 0)
            source = ipaddress.IPv4Address(packet.source).packed
            destination = bytes((192, 0, 2, 254))
            ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp) + len(packet.payload), 0, 0,
                             64, 17, 0) + source + destination  # fmt: skip
            ip = ip[:10] + struct.pack(">H", _ipv4_checksum(ip)) + ip[12:]
            frame = bytes.fromhex("021a0000fffe021a0000fffd0800") + ip + udp + packet.payload
            seconds = int(packet.time)
            micros = int((packet.time - seconds) * 1_000_000)
            out.write(_PCAP_RECORD.pack(seconds, micros, len(frame), len(frame)) + frame)
            count += 1
    return count


def read_pcap(path: Path) -> Iterator[Packet]:
    """The datagrams of a savefile ``write_pcap`` wrote (UDP over IPv4 over Ethernet only)."""
    data = path.read_bytes()
    magic, *_ = _PCAP_HEADER.unpack_from(data, 0)
    if magic != _PCAP_MAGIC:
        raise ValueError(f"{path}: not a little-endian libpcap savefile")
    offset = _PCAP_HEADER.size
    while offset + _PCAP_RECORD.size <= len(data):
        seconds, micros, length, _ = _PCAP_RECORD.unpack_from(data, offset)
        frame = data[offset + _PCAP_RECORD.size : offset + _PCAP_RECORD.size + length]
        offset += _PCAP_RECORD.size + length
        ihl = (frame[14] & 0x0F) * 4
        source = str(ipaddress.IPv4Address(frame[26:30]))
        yield Packet(seconds + micros / 1_000_000, source, frame[14 + ihl + 8 :])
