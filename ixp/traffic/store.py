"""Writing closed buckets into the database: MAC addresses turned into members, one transaction.

``rows_of_bucket`` turns a collector's ``Bucket`` (cells per agent, port and MAC pair)
into the rows of the traffic tables (``ixp.models.traffic``); ``rows_of_pmacct`` does
the same for the cells sfacctd wrote (MAC pairs only: pmacct's aggregate has no
ports or agents). Both are pure: they take the ``MacDirectory`` (every member's
MACs, from the member database: MacAddress -> Connection -> Member) and return
``BucketRows``. ``write`` stores one ``BucketRows`` in one transaction.

Writing adds to what a bucket already holds (an insert that adds on conflict): a
collector restarted within five minutes writes the first part of the bucket at its
stop and the rest at the bucket's end, and a pmacct row that arrives late for an
imported bucket is added, not lost. A write into a bucket that was rolled up already
moves the rollup's mark back so the next rollup computes it again.

How a frame is counted, by its MACs:

- both unicast and a member's: a matrix cell (IPv4 or IPv6; other ethertypes only at
  the port);
- a unicast MAC of no member, and not one of the exchange's own
  (``traffic_exchange_macs``): an unknown-MAC sighting at the port where the frame
  entered, whichever side it was on;
- to a broadcast or multicast address (ARP requests, IPv6 neighbour discovery):
  only in the port's figures.

A port's ``out`` figures are the frames whose destination MAC sends from that port:
with ingress-only sampling, a frame is sampled where it enters the fabric, and it
leaves where its destination's own traffic enters. Each MAC's port is the one that
carries most of its samples (kept across buckets for members' MACs, so a member that
only receives in a bucket still has its port).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ixp import validate
from ixp.db import transaction
from ixp.errors import ValidationError
from ixp.models import (
    Connection,
    MacAddress,
    MacRole,
    Member,
    TrafficAgent,
    TrafficPair,
    TrafficPort,
    TrafficRollup,
    TrafficUnknownMac,
)
from ixp.traffic.buckets import BUCKET_SECONDS, Bucket
from ixp.traffic.pmacct import PmacctCell

Port = tuple[str, int]  # (agent, ifIndex)
# What a member pair holds: samples, packets and bytes of IPv4, then of IPv6.
PairCounts = list[int]
_PAIR_FIELDS = ("samples4", "packets4", "bytes4", "samples6", "packets6", "bytes6")
_PORT_FIELDS = (
    "in_samples", "in_packets", "in_bytes", "in_bytes4", "in_bytes6",
    "out_samples", "out_packets", "out_bytes", "out_bytes4", "out_bytes6",
    "foreign_samples", "counter_readings", "counter_ms", "counter_in_octets",
    "counter_in_packets", "counter_out_octets", "counter_out_packets",
)  # fmt: skip
_AGENT_FIELDS = (
    "datagrams", "malformed", "lost", "late", "duplicates", "restarts", "flow_samples",
    "counter_samples", "other_samples", "unattributed_samples", "not_ingress_samples",
    "missed_samples", "dropped_samples",
)  # fmt: skip
ROLLED_UP = (3600, 86400)  # the resolutions computed from finer rows
_FAMILIES = {4: "4", 6: "6"}


def is_group(mac: str) -> bool:
    """A broadcast or multicast MAC address (the I/G bit of its first octet set)."""
    return int(mac[:2], 16) & 1 == 1


@dataclass(frozen=True)
class MacDirectory:
    """Whose MAC is whose: each member MAC's ASN, and the exchange's own MACs."""

    members: Mapping[str, int]
    exchange: frozenset[str] = frozenset()

    def unknown(self, mac: str) -> bool:
        """A unicast MAC of no member and not the exchange's: what the alert is about."""
        return mac not in self.members and mac not in self.exchange and not is_group(mac)


def mac_directory(session: Session, exchange_macs: Iterable[str] = ()) -> MacDirectory:
    """Every member's MACs from the member database, in one query, and the exchange's own
    (``traffic_exchange_macs``; one that is no unicast MAC is a ValidationError naming it)."""
    rows = session.execute(
        select(MacAddress.mac, Member.asn)
        .join(Connection, MacAddress.connection_id == Connection.id)
        .join(Member, Connection.member_id == Member.id)
    )
    own = frozenset(validate.mac(mac, "settings: traffic_exchange_macs") for mac in exchange_macs)
    return MacDirectory({mac.lower(): asn for mac, asn in rows}, own)


@dataclass
class PortRow:
    """The figures of one port in one bucket (the columns of ``TrafficPort``)."""

    asn: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_PORT_FIELDS, 0))


@dataclass
class BucketRows:
    """Everything one bucket adds to the tables, ready to be written in one transaction."""

    start: int  # seconds since the epoch, UTC
    pairs: dict[tuple[int, int], PairCounts] = field(default_factory=dict)
    ports: dict[Port, PortRow] = field(default_factory=dict)
    agents: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown: dict[tuple[str, MacRole, str, int], list[int]] = field(default_factory=dict)

    def add_pair(
        self, src: int, dst: int, ip_version: int, samples: int, packets: int, size: int
    ) -> None:
        """Count IPv4 or IPv6 traffic from member ``src`` to member ``dst``."""
        pair = self.pairs.setdefault((src, dst), [0] * 6)
        offset = 3 if ip_version == 6 else 0
        pair[offset] += samples
        pair[offset + 1] += packets
        pair[offset + 2] += size

    @property
    def start_time(self) -> datetime:
        """The bucket's start as a UTC datetime."""
        return datetime.fromtimestamp(self.start, UTC)


def _add(into: list[int], *values: int) -> None:
    for index, value in enumerate(values):
        into[index] += value


def _homes(
    bucket: Bucket, kept: MutableMapping[str, Port], directory: MacDirectory
) -> dict[str, Port]:
    """Each source MAC's port in this bucket (the one with most of its samples); members'
    MACs remembered in ``kept`` for later buckets (a MAC of no member is not, so the map
    stays as small as the member database)."""
    samples: dict[str, dict[Port, int]] = {}
    for cell in bucket.flows:
        by_port = samples.setdefault(cell.src_mac, {})
        port = (cell.agent, cell.port)
        by_port[port] = by_port.get(port, 0) + cell.samples
    homes = dict(kept)
    for mac, by_port in samples.items():
        home = max(sorted(by_port), key=lambda port: by_port[port])
        homes[mac] = home
        if mac in directory.members:
            kept[mac] = home
    return homes


def rows_of_bucket(
    bucket: Bucket, directory: MacDirectory, homes: MutableMapping[str, Port] | None = None
) -> BucketRows:
    """The rows a collector's bucket adds (see the module docstring); ``homes`` carries
    members' ports from one bucket to the next (the collector keeps one for its life)."""
    if bucket.seconds != BUCKET_SECONDS:
        raise ValidationError("bucket", bucket.seconds, f"is not {BUCKET_SECONDS} seconds long")
    rows = BucketRows(int(bucket.start.timestamp()))
    home_of = _homes(bucket, homes if homes is not None else {}, directory)
    members = directory.members
    for cell in bucket.flows:
        port = (cell.agent, cell.port)
        family = _FAMILIES.get(cell.ip_version, "")
        row = rows.ports.setdefault(port, PortRow())
        _count(row.counts, "in", family, cell.samples, cell.packets, cell.bytes)
        home = home_of.get(cell.src_mac)
        if home is not None and home[0] != cell.agent:
            row.counts["foreign_samples"] += cell.samples
        src, dst = members.get(cell.src_mac), members.get(cell.dst_mac)
        if home == port and src is not None and row.asn is None:
            row.asn = src
        out = home_of.get(cell.dst_mac) if not is_group(cell.dst_mac) else None
        if out is not None:
            target = rows.ports.setdefault(out, PortRow()).counts
            _count(target, "out", family, cell.samples, cell.packets, cell.bytes)
        for mac, role in ((cell.src_mac, MacRole.src), (cell.dst_mac, MacRole.dst)):
            if directory.unknown(mac):
                sighting = rows.unknown.setdefault((mac, role, cell.agent, cell.port), [0, 0, 0])
                _add(sighting, cell.samples, cell.packets, cell.bytes)
        if src is not None and dst is not None and family:
            rows.add_pair(src, dst, cell.ip_version, cell.samples, cell.packets, cell.bytes)
    for reading in bucket.ports:
        counts = rows.ports.setdefault((reading.agent, reading.if_index), PortRow()).counts
        counts["counter_readings"] += reading.readings
        counts["counter_ms"] += round(reading.seconds * 1000)
        counts["counter_in_octets"] += reading.in_octets
        counts["counter_in_packets"] += reading.in_packets
        counts["counter_out_octets"] += reading.out_octets
        counts["counter_out_packets"] += reading.out_packets
    for health in bucket.agents:
        rows.agents[health.agent] = {
            "datagrams": health.datagrams,
            "malformed": health.malformed_datagrams,
            "lost": health.lost_datagrams,
            "late": health.late_datagrams,
            "duplicates": health.duplicate_datagrams,
            "restarts": health.restarts,
            "flow_samples": health.flow_samples,
            "counter_samples": health.counter_samples,
            "other_samples": health.other_samples,
            "unattributed_samples": health.unattributed_samples,
            "not_ingress_samples": health.not_ingress_samples,
            "missed_samples": health.missed_samples,
            "dropped_samples": health.dropped_samples,
        }
    return rows


def _count(counts: dict[str, int], side: str, family: str, samples: int, packets: int,
           size: int) -> None:  # fmt: skip
    counts[f"{side}_samples"] += samples
    counts[f"{side}_packets"] += packets
    counts[f"{side}_bytes"] += size
    if family:
        counts[f"{side}_bytes{family}"] += size


def rows_of_pmacct(
    cells: Iterable[tuple[int, PmacctCell]], directory: MacDirectory, sampling_rate: int
) -> list[BucketRows]:
    """The rows of sfacctd's cells, each given with its bucket's start (seconds since the
    epoch), oldest bucket first.

    Renormalized counts do not say how many samples are behind them; with every agent
    sampling 1 in ``sampling_rate`` frames a cell of P packets stands for P / rate
    samples. With several rates, the largest gives the fewest samples and so never an
    interval narrower than the truth. The sightings of unknown MACs have no port.
    """
    if sampling_rate < 1:
        raise ValidationError(
            "settings: traffic_pmacct_sampling_rate",
            sampling_rate,
            "is not set: the sampling rate of the switches is needed for the sampling error",
        )
    by_start: dict[int, BucketRows] = {}
    members = directory.members
    for start, cell in cells:
        rows = by_start.setdefault(start, BucketRows(start))
        samples = max(1, cell.packets // sampling_rate) if cell.packets else 0
        for mac, role in ((cell.src_mac, MacRole.src), (cell.dst_mac, MacRole.dst)):
            if directory.unknown(mac):
                sighting = rows.unknown.setdefault((mac, role, "", 0), [0, 0, 0])
                _add(sighting, samples, cell.packets, cell.bytes)
        src, dst = members.get(cell.src_mac), members.get(cell.dst_mac)
        if src is not None and dst is not None and cell.ip_version in _FAMILIES:
            rows.add_pair(src, dst, cell.ip_version, samples, cell.packets, cell.bytes)
    return [by_start[start] for start in sorted(by_start)]


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _add_rows(
    session: Session,
    model: type[Any],
    keys: Sequence[str],
    rows: list[dict[str, Any]],
    added: Sequence[str],
    kept: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, add the ``added`` columns
    to it and keep its ``kept`` ones where set (``INSERT ... ON CONFLICT DO UPDATE``, which
    SQLite and PostgreSQL both have)."""
    if not rows:
        return
    table = _table(model)
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    changes: dict[str, Any] = {name: table.c[name] + statement.excluded[name] for name in added}
    for name in kept:
        changes[name] = func.coalesce(table.c[name], statement.excluded[name])
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes), rows)


def write(session: Session, rows: BucketRows, *, not_before: int = 0) -> None:
    """Add one bucket's rows in one transaction, and have the rollup compute its hour and day
    again if they were rolled up already.

    A bucket that starts before ``not_before`` (the oldest 5-minute rows kept) is refused:
    its hour could no longer be rolled up again from complete 5-minute rows.
    """
    if rows.start < not_before:
        raise ValidationError(
            "bucket", rows.start_time.isoformat(), "is older than the 5-minute rows are kept"
        )
    base = {"resolution": BUCKET_SECONDS, "start": rows.start}
    with transaction(session):
        pairs = [
            {**base, "src_asn": src, "dst_asn": dst, **dict(zip(_PAIR_FIELDS, counts, strict=True))}
            for (src, dst), counts in sorted(rows.pairs.items())
        ]
        _add_rows(session, TrafficPair, ("resolution", "start", "src_asn", "dst_asn"), pairs,
                  _PAIR_FIELDS)  # fmt: skip
        ports = [
            {**base, "agent": agent, "if_index": if_index, "asn": row.asn, **row.counts}
            for (agent, if_index), row in sorted(rows.ports.items())
        ]
        _add_rows(session, TrafficPort, ("resolution", "start", "agent", "if_index"), ports,
                  _PORT_FIELDS, kept=("asn",))  # fmt: skip
        agents = [
            {**base, "agent": agent, **counts} for agent, counts in sorted(rows.agents.items())
        ]
        _add_rows(session, TrafficAgent, ("resolution", "start", "agent"), agents, _AGENT_FIELDS)
        unknown = [
            {"start": rows.start, "mac": mac, "role": role, "agent": agent, "if_index": if_index,
             "samples": counts[0], "packets": counts[1], "bytes": counts[2]}
            for (mac, role, agent, if_index), counts in sorted(rows.unknown.items())
        ]  # fmt: skip
        _add_rows(session, TrafficUnknownMac, ("start", "mac", "role", "agent", "if_index"),
                  unknown, ("samples", "packets", "bytes"))  # fmt: skip
        for resolution in ROLLED_UP:
            aligned = rows.start - rows.start % resolution
            session.execute(
                update(TrafficRollup)
                .where(TrafficRollup.resolution == resolution, TrafficRollup.done_until > aligned)
                .values(done_until=aligned)
            )
