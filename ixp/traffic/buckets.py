"""Sampled traffic in 5-minute buckets: the member-to-member matrix, agent health, port counters.

``Aggregator.add`` takes every datagram the collector receives (any bytes at all:
it never raises for what a datagram holds) and counts it in the bucket of its
arrival time. ``Aggregator.close`` hands over the buckets that have ended, each a
frozen ``Bucket`` holding everything about its five minutes, so that a storage layer
can write one bucket in one transaction:

- ``flows``: per (agent, input port, source MAC, destination MAC, VLAN, IP version)
  the samples behind the cell and the frames and bytes they stand for (each sample
  scaled by its own sampling rate). The matrix of member pairs is these cells summed
  (``pair_totals``); a cell's confidence interval comes from its sample count
  (``ixp.traffic.sampling``).
- ``agents``: per agent, datagrams received, malformed by reason (received =
  accepted + malformed, always), datagrams lost (gaps in the sequence numbers of
  each sub-agent), late and duplicate, restarts, samples by kind, samples whose
  frame had no usable Ethernet header, samples not taken at their input port
  (egress or VLAN sampling: the same frame may then be counted twice), and its
  sources' missed and dropped samples summed.
- ``sources``: per agent and data source, the samples it sent that never arrived
  (its sample sequence numbers), the samples it dropped itself (its drops counter)
  and the frames it saw (its sample pool).
- ``ports``: per agent and interface, the interface counters' growth (octets and
  frames in and out) over the readings in the bucket, for the cross-check against
  the sampled estimate.

The collector's hot path is ``sflow.tally`` (see there); what is counted per
datagram here is a handful of integer operations. Everything is turned into text
and named tuples and dataclasses only when a bucket closes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from ixp.heap import cycle_collection_paused
from ixp.traffic import sampling, sflow

BUCKET_SECONDS = 300
_MASK32 = 0xFFFFFFFF
_HALF32 = 0x80000000
# A datagram up to this many sequence numbers behind the newest is late (reordered on
# the way); further behind, or with an uptime more than a minute behind, the agent restarted.
_LATE_WINDOW = 1024
_RESTART_UPTIME_MS = 60_000


class FlowCell(NamedTuple):
    """Sampled traffic of one member pair at one port in one bucket (estimates scaled by rate).

    A named tuple, not a frozen dataclass: closing a bucket makes one per cell, a few
    hundred thousand at a large exchange, and a frozen dataclass sets each of its nine
    fields through ``object.__setattr__`` (five times the cost of the whole tuple).
    """

    agent: str
    port: int  # the input ifIndex (0: not known)
    src_mac: str  # lower-case, colon-separated
    dst_mac: str
    vlan: int  # outer VLAN id of the sampled frame, 0 untagged
    ip_version: int  # 4, 6, or 0 for other ethertypes
    samples: int
    packets: int
    bytes: int

    def bytes_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Where the true byte count lies with the given confidence (see ``sampling``)."""
        return sampling.interval(self.bytes, self.samples, confidence=confidence)


@dataclass(frozen=True, slots=True)
class Totals:
    """Summed cells: samples behind them, estimated frames and bytes."""

    samples: int
    packets: int
    bytes: int

    def bytes_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Where the true byte count lies with the given confidence (see ``sampling``)."""
        return sampling.interval(self.bytes, self.samples, confidence=confidence)


def pair_totals(flows: Iterable[FlowCell]) -> dict[tuple[str, str], Totals]:
    """The matrix: (source MAC, destination MAC) -> totals over ports, VLANs and IP versions."""
    sums: dict[tuple[str, str], list[int]] = {}
    for cell in flows:
        total = sums.setdefault((cell.src_mac, cell.dst_mac), [0, 0, 0])
        total[0] += cell.samples
        total[1] += cell.packets
        total[2] += cell.bytes
    return {pair: Totals(*values) for pair, values in sums.items()}


@dataclass(frozen=True, slots=True)
class AgentHealth:
    """How completely one agent's datagrams arrived and could be read in one bucket."""

    agent: str
    datagrams: int  # received, readable or not
    malformed: tuple[tuple[str, int], ...]  # (reason, datagrams), by reason
    lost_datagrams: int  # skipped sequence numbers (per sub-agent)
    late_datagrams: int  # arrived after a later one
    duplicate_datagrams: int
    restarts: int
    flow_samples: int
    counter_samples: int
    other_samples: int  # of formats not read (skipped by length)
    unattributed_samples: int  # flow samples without a usable Ethernet header
    not_ingress_samples: int  # flow samples whose input port is not their data source
    missed_samples: int  # the sum of its sources' (those with a figure, see SourceHealth)
    dropped_samples: int  # the sum of its sources' (the agent's own drops)

    @property
    def malformed_datagrams(self) -> int:
        """Datagrams counted but not read, whatever the reason."""
        return sum(count for _, count in self.malformed)

    @property
    def accepted_datagrams(self) -> int:
        """Datagrams read in full (received = accepted + malformed)."""
        return self.datagrams - self.malformed_datagrams


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One data source (a port, usually) of one agent in one bucket.

    ``missed``, ``dropped`` and ``packets`` compare the source's latest sample with its
    latest one in the previous bucket; they are None in the bucket where the source
    first appears or its agent restarted, which has nothing to compare with.
    """

    agent: str
    source_type: int  # 0: ifIndex, 1: VLAN, 2: physical entity
    source_index: int
    samples: int  # flow samples received and counted
    missed: int | None  # sent (by the sequence numbers) but not counted: lost or malformed
    dropped: int | None  # dropped by the agent itself for lack of resources
    packets: int | None  # frames the source saw, sampled or not (its sample pool)


@dataclass(frozen=True, slots=True)
class PortCounters:
    """Growth of one interface's counters over the readings in one bucket."""

    agent: str
    if_index: int
    readings: int  # counter records received (the first of an interface only sets a baseline)
    seconds: float  # agent uptime the growth spans
    in_octets: int
    in_packets: int
    out_octets: int
    out_packets: int
    speed: int  # bit/s, from the latest reading
    status: int  # bit 0 admin up, bit 1 operationally up, from the latest reading


@dataclass(frozen=True, slots=True)
class Bucket:
    """Everything counted in one bucket: what a storage layer writes in one transaction."""

    start: datetime  # UTC, a multiple of ``seconds`` since the epoch
    seconds: int
    flows: tuple[FlowCell, ...]
    agents: tuple[AgentHealth, ...]
    sources: tuple[SourceHealth, ...]
    ports: tuple[PortCounters, ...]


class _AgentCounts:
    """One agent's counts in one open bucket (mutable; turned into dataclasses at close)."""

    __slots__ = (
        "cells",
        "counter_samples",
        "datagrams",
        "duplicates",
        "flow_samples",
        "folded",
        "late",
        "lost",
        "malformed",
        "marks",
        "other_samples",
        "ports",
        "restarts",
    )

    def __init__(self) -> None:
        self.cells: sflow.Cells = {}
        self.marks: sflow.Marks = {}
        self.datagrams = self.flow_samples = self.counter_samples = self.other_samples = 0
        self.lost = self.late = self.duplicates = self.restarts = 0
        self.malformed: dict[str, int] = {}
        # Sources whose figures were settled when the agent restarted: (missed, dropped, packets).
        self.folded: dict[int, tuple[int, int, int]] = {}
        # if_index -> [readings, uptime ms, in octets, in packets, out octets, out packets,
        #              speed, status]
        self.ports: dict[int, list[int]] = {}


class Aggregator:
    """Counts datagrams into buckets of ``seconds`` by arrival time; see the module docstring.

    Buckets are meant to be closed in time order (the collector closes each one once
    it has ended); sequence numbers, sample pools and interface counters are compared
    across buckets, so each source's figures are continuous from one to the next.
    """

    def __init__(
        self, seconds: int = BUCKET_SECONDS, accept: Callable[[bytes], bool] | None = None
    ) -> None:
        self.seconds = seconds
        # Which agent addresses (raw bytes, as read_header gives them) are counted; the
        # others are refused before anything is kept about them (``refused``).
        self._accept = accept
        self._accepted: set[bytes] = set()
        self.refused = 0
        self._open: dict[int, dict[bytes, _AgentCounts]] = {}
        self._current: dict[bytes, _AgentCounts] = {}
        self._current_start = self._current_end = 0.0
        # (agent, sub-agent) -> [newest datagram sequence number, its uptime]
        self._sequences: dict[tuple[bytes, int], list[int]] = {}
        # agent -> source -> its mark (sequence, pool, drops, rate) as the last bucket closed
        self._baselines: dict[bytes, sflow.Marks] = {}
        # (agent, if_index) -> (uptime, counters) of the newest reading
        self._readings: dict[tuple[bytes, int], tuple[int, sflow.InterfaceCounters]] = {}
        self._packed_sources: dict[str, bytes] = {}

    def add(self, data: bytes, source: str, received_at: float) -> None:
        """Count one datagram received from the UDP ``source`` address at ``received_at``.

        An agent is known by the address in its datagrams; one whose header cannot be
        read (or that sends no address) by ``source``. An agent address ``accept`` refuses
        is only counted in ``refused`` (the caller checks ``source`` itself).
        """
        if not self._current_start <= received_at < self._current_end:
            self._switch_bucket(received_at)
        agents = self._current
        try:
            agent, sub_agent, sequence, uptime, count, offset = sflow.read_header(data)
        except sflow.MalformedDatagram as exc:
            counts = self._counts(agents, self._packed(source))
            counts.datagrams += 1
            counts.malformed[exc.malformation] = counts.malformed.get(exc.malformation, 0) + 1
            return
        if not agent:
            agent = self._packed(source)
        elif self._accept is not None and agent not in self._accepted:
            if not self._accept(agent):
                self.refused += 1
                return
            self._accepted.add(agent)
        counts = agents.get(agent) or self._counts(agents, agent)
        counts.datagrams += 1
        self._sequence(counts, agent, sub_agent, sequence, uptime)
        others: list[sflow.Sample] = []
        try:
            counts.flow_samples += sflow.tally(
                data, offset, count, counts.cells, counts.marks, others
            )
        except sflow.MalformedDatagram as exc:
            counts.malformed[exc.malformation] = counts.malformed.get(exc.malformation, 0) + 1
            return
        for sample in others:
            if isinstance(sample, sflow.CounterSample):
                counts.counter_samples += 1
                for record in sample.records:
                    if isinstance(record, sflow.InterfaceCounters):
                        self._reading(counts, agent, uptime, record)
            else:
                counts.other_samples += 1

    def close(self, before: float | None = None) -> list[Bucket]:
        """The buckets that ended by ``before`` (all open ones when None), oldest first.

        Closed buckets are forgotten; a datagram that arrives for one later opens it
        again, as a bucket of its own.
        """
        ended = sorted(s for s in self._open if before is None or s + self.seconds <= before)
        # Closing makes half a million small objects for a large exchange's bucket, none
        # of them in a cycle: collections while it runs took a third of its time.
        with cycle_collection_paused():
            buckets = [self._bucket(start, self._open.pop(start)) for start in ended]
        if self._current_start in ended:
            self._current = {}
            self._current_start = self._current_end = 0.0
        return buckets

    def _switch_bucket(self, received_at: float) -> None:
        start = int(received_at // self.seconds) * self.seconds
        self._current = self._open.setdefault(start, {})
        self._current_start, self._current_end = start, start + self.seconds

    @staticmethod
    def _counts(agents: dict[bytes, _AgentCounts], agent: bytes) -> _AgentCounts:
        counts = agents.get(agent)
        if counts is None:
            counts = agents[agent] = _AgentCounts()
        return counts

    def _packed(self, source: str) -> bytes:
        """The UDP source address as the bytes an agent address is kept as."""
        packed = self._packed_sources.get(source)
        if packed is None:
            packed = self._packed_sources[source] = ipaddress.ip_address(source).packed
        return packed

    def _sequence(
        self, counts: _AgentCounts, agent: bytes, sub_agent: int, sequence: int, uptime: int
    ) -> None:
        """Lost, late and duplicate datagrams, and restarts, from the sub-agent's sequence."""
        key = (agent, sub_agent)
        newest = self._sequences.get(key)
        if newest is None:
            self._sequences[key] = [sequence, uptime]
            return
        ahead = (sequence - newest[0]) & _MASK32
        uptime_back = (newest[1] - uptime) & _MASK32
        if ahead == 1 and uptime_back >= _HALF32:
            newest[0], newest[1] = sequence, uptime
        elif (
            _RESTART_UPTIME_MS < uptime_back < _HALF32 or _LATE_WINDOW < -ahead & _MASK32 < _HALF32
        ):
            counts.restarts += 1
            newest[0], newest[1] = sequence, uptime
            self._fold(counts, agent)
        elif ahead == 0:
            counts.duplicates += 1
        elif ahead < _HALF32:
            counts.lost += ahead - 1
            newest[0], newest[1] = sequence, uptime
        else:
            counts.late += 1

    def _fold(self, counts: _AgentCounts, agent: bytes) -> None:
        """Settle the agent's sources at a restart: their sequence numbers start again."""
        baselines = self._baselines.pop(agent, {})
        received = _samples_by_source(counts.cells)
        for source, mark in counts.marks.items():
            base = baselines.get(source)
            if base is not None and source not in counts.folded:
                counts.folded[source] = _source_figures(base, mark, received.get(source, 0))
        counts.marks.clear()

    def _reading(
        self, counts: _AgentCounts, agent: bytes, uptime: int, record: sflow.InterfaceCounters
    ) -> None:
        """Add an interface counter reading's growth since the previous one to the bucket."""
        key = (agent, record.if_index)
        previous = self._readings.get(key)
        self._readings[key] = (uptime, record)
        port = counts.ports.get(record.if_index)
        if port is None:
            port = counts.ports[record.if_index] = [0, 0, 0, 0, 0, 0, 0, 0]
        port[0] += 1
        port[6], port[7] = record.speed, record.status
        if previous is None:
            return
        then, old = previous
        elapsed = (uptime - then) & _MASK32
        # An uptime gone back is a restart; octets gone back a counter reset (64-bit octet
        # counters do not wrap). The reading is then a new baseline, not growth.
        if not 0 < elapsed < _HALF32 or record.in_octets < old.in_octets:
            return
        if record.out_octets < old.out_octets:
            return
        port[1] += elapsed
        port[2] += record.in_octets - old.in_octets
        port[3] += (record.in_packets - old.in_packets) & _MASK32
        port[4] += record.out_octets - old.out_octets
        port[5] += (record.out_packets - old.out_packets) & _MASK32

    def _bucket(self, start: int, agents: dict[bytes, _AgentCounts]) -> Bucket:
        flows: list[FlowCell] = []
        health: list[AgentHealth] = []
        sources: list[SourceHealth] = []
        ports: list[PortCounters] = []
        macs: dict[bytes, str] = {}
        for agent, counts in sorted(agents.items()):
            name = sflow.agent_text(agent)
            cells, unattributed, not_ingress = _flow_cells(name, counts.cells, macs)
            flows.extend(cells)
            agent_sources = self._sources(name, agent, counts)
            sources.extend(agent_sources)
            health.append(
                AgentHealth(
                    agent=name,
                    datagrams=counts.datagrams,
                    malformed=tuple(sorted((str(k), n) for k, n in counts.malformed.items())),
                    lost_datagrams=counts.lost,
                    late_datagrams=counts.late,
                    duplicate_datagrams=counts.duplicates,
                    restarts=counts.restarts,
                    flow_samples=counts.flow_samples,
                    counter_samples=counts.counter_samples,
                    other_samples=counts.other_samples,
                    unattributed_samples=unattributed,
                    not_ingress_samples=not_ingress,
                    missed_samples=sum(s.missed or 0 for s in agent_sources),
                    dropped_samples=sum(s.dropped or 0 for s in agent_sources),
                )
            )
            ports.extend(
                PortCounters(name, if_index, p[0], p[1] / 1000, p[2], p[3], p[4], p[5], p[6], p[7])
                for if_index, p in sorted(counts.ports.items())
            )
        return Bucket(
            datetime.fromtimestamp(start, UTC),
            self.seconds,
            tuple(flows),
            tuple(health),
            tuple(sources),
            tuple(ports),
        )

    def _sources(self, name: str, agent: bytes, counts: _AgentCounts) -> list[SourceHealth]:
        """Each source's figures against its baseline; its latest mark becomes the next one."""
        baselines = self._baselines.setdefault(agent, {})
        received = _samples_by_source(counts.cells)
        found = []
        for source in sorted(received.keys() | counts.marks.keys() | counts.folded.keys()):
            figures: tuple[int | None, ...] = (None, None, None)
            mark = counts.marks.get(source)
            base = baselines.get(source)
            if source in counts.folded:
                figures = counts.folded[source]
            elif mark is not None and base is not None:
                figures = _source_figures(base, mark, received.get(source, 0))
            if mark is not None:
                baselines[source] = mark
            found.append(
                SourceHealth(name, *sflow.source_of(source), received.get(source, 0), *figures)
            )
        return found


def _samples_by_source(cells: sflow.Cells) -> dict[int, int]:
    received: dict[int, int] = {}
    for (source, _, _, _), value in cells.items():
        received[source] = received.get(source, 0) + (value >> 64)
    return received


def _source_figures(base: sflow.Mark, mark: sflow.Mark, received: int) -> tuple[int, int, int]:
    """(missed, dropped, packets) between two marks of a source, ``received`` counted between.

    The sample pool is a 32-bit counter that a busy port wraps in under a minute at
    100 Gbit/s, so its growth is taken as what it reads plus the number of wraps that
    brings it closest to what the sequence numbers predict: every sample taken (sent
    or dropped) stands for about ``rate`` frames. The prediction is off by about
    ``rate * sqrt(samples)``, far less than a wrap, so the count is exact.
    """
    sent = (mark[0] - base[0]) & _MASK32
    dropped = (mark[2] - base[2]) & _MASK32
    pool = (mark[1] - base[1]) & _MASK32
    predicted = (sent + dropped) * mark[3]
    pool += max(0, round((predicted - pool) / 2**32)) << 32
    return max(0, sent - received), dropped, pool


def _flow_cells(
    agent: str, cells: sflow.Cells, macs: dict[bytes, str]
) -> tuple[list[FlowCell], int, int]:
    """The agent's cells merged by port, MACs, VLAN and IP version; unattributed, not ingress."""
    merged: dict[tuple[int, bytes, bytes, int, int], list[int]] = {}
    unattributed = not_ingress = 0
    ip_versions = sflow.IP_VERSIONS
    for (source, input_key, rate, l2), value in cells.items():
        samples, frame_bytes = sflow.cell_counts(value)
        if input_key < 0x40000000:  # the compact form of format 0: the ifIndex itself
            port = input_key
        else:
            input_format, input_ = sflow.interface_of(input_key)
            port = input_ if input_format == 0 else 0
        # Taken at ingress: the data source is the input port (type 0, the same ifIndex).
        if source != port and sflow.source_of(source) != (0, port):
            not_ingress += samples
        fields = sflow.head_fields(l2)
        if fields is None:
            unattributed += samples
            continue
        dst, src, vlan, ethertype = fields
        key = (port, src, dst, vlan, ip_versions.get(ethertype, 0))
        total = merged.get(key)
        if total is None:
            merged[key] = [samples, samples * rate, frame_bytes * rate]
            continue
        total[0] += samples
        total[1] += samples * rate
        total[2] += frame_bytes * rate
    found: list[FlowCell] = []
    append = found.append
    for (port, src, dst, vlan, ip_version), (samples, packets, size) in sorted(merged.items()):
        src_text = macs.get(src) or _mac(src, macs)
        dst_text = macs.get(dst) or _mac(dst, macs)
        append(FlowCell(agent, port, src_text, dst_text, vlan, ip_version, samples, packets, size))
    return found, unattributed, not_ingress


def _mac(raw: bytes, seen: dict[bytes, str]) -> str:
    text = seen[raw] = raw.hex(":")
    return text
