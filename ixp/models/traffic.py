"""Measured traffic over the fabric: the member-to-member matrix, ports, agents, unknown MACs.

Written by the sFlow collector (``ixp traffic collect``) or the pmacct import, one
5-minute bucket per transaction (``ixp.traffic.store``), and rolled up into hourly
and daily rows (``ixp.traffic.rollup``). The shape is chosen for size, because these
are the largest tables of an installation (``bench/sflow_decode.py`` measures them):

- One row per bucket and member *pair*, with IPv4 and IPv6 in columns of the row
  rather than a row per IP version: half the rows, and the per-row overhead (about
  40 bytes of tuple header, line pointer and index entry on PostgreSQL) is paid once.
- Buckets are integers (seconds since the epoch, UTC), not timestamps: 8 bytes on
  both backends (SQLite stores a datetime as 26 characters of text), and rolling up
  is integer arithmetic that SQLite and PostgreSQL write the same way.
- The rolled-up rows live in the same tables, told apart by ``resolution`` (300,
  3600 or 86400 seconds), the first column of the primary key: one code path reads
  every resolution, and retention is one ranged delete per resolution.
- On SQLite the tables are WITHOUT ROWID: the primary key is the table, instead of a
  table plus an index repeating the key.
- Members are kept by ASN, not by foreign key (as ``rs_rules`` keeps its peer): an
  exchange's traffic history must outlive a member's removal, or the overall figures
  of past months would change when a member leaves.

Only aggregates per member, port and agent are stored: never an IP address or
payload. Counts are estimates (samples scaled by their sampling rates) with the
number of samples behind them, from which ``ixp.traffic.sampling`` gives the
confidence interval.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Enum, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ixp.models.base import Base, UtcDateTime, utcnow

_NO_ROWID = {"sqlite_with_rowid": False}


class TrafficPair(Base):
    """Bytes one member sent to another over the fabric in one bucket, IPv4 and IPv6 apart.

    Only IP traffic between two known members' MACs: frames to or from an unknown MAC
    are ``TrafficUnknownMac`` sightings, broadcast and multicast count only at the port.
    """

    __tablename__ = "traffic_pairs"
    __table_args__ = (_NO_ROWID,)

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    src_asn: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dst_asn: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    samples4: Mapped[int] = mapped_column(BigInteger, default=0)
    packets4: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes4: Mapped[int] = mapped_column(BigInteger, default=0)
    samples6: Mapped[int] = mapped_column(BigInteger, default=0)
    packets6: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes6: Mapped[int] = mapped_column(BigInteger, default=0)


class TrafficPort(Base):
    """One switch port (agent and ifIndex, as sFlow names it) in one bucket.

    ``in_*`` is what entered the fabric there (sampled at the port, all frames, the
    IPv4 and IPv6 parts apart); ``out_*`` what left the fabric there (sampled where
    it entered, attributed to the port its destination MAC sends from). ``asn`` is
    the member whose MACs send from the port (None: no member's). ``foreign_samples``
    are samples of MACs whose own port is on another agent: the same frames counted
    again (sampling on an inter-switch link, see the README). The ``counter_*``
    columns are the interface counters' growth over ``counter_ms`` milliseconds
    within the bucket, for the cross-check against the sampled estimate.
    """

    __tablename__ = "traffic_ports"
    __table_args__ = (_NO_ROWID,)

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent: Mapped[str] = mapped_column(String(45), primary_key=True)
    if_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asn: Mapped[int | None] = mapped_column(BigInteger)
    in_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    in_packets: Mapped[int] = mapped_column(BigInteger, default=0)
    in_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    in_bytes4: Mapped[int] = mapped_column(BigInteger, default=0)
    in_bytes6: Mapped[int] = mapped_column(BigInteger, default=0)
    out_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    out_packets: Mapped[int] = mapped_column(BigInteger, default=0)
    out_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    out_bytes4: Mapped[int] = mapped_column(BigInteger, default=0)
    out_bytes6: Mapped[int] = mapped_column(BigInteger, default=0)
    foreign_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_readings: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_in_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_in_packets: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_out_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_out_packets: Mapped[int] = mapped_column(BigInteger, default=0)


class TrafficAgent(Base):
    """How completely one sFlow agent's datagrams arrived and could be read in one bucket
    (``ixp.traffic.buckets.AgentHealth``, summed when rolled up)."""

    __tablename__ = "traffic_agents"
    __table_args__ = (_NO_ROWID,)

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent: Mapped[str] = mapped_column(String(45), primary_key=True)
    datagrams: Mapped[int] = mapped_column(BigInteger, default=0)
    malformed: Mapped[int] = mapped_column(BigInteger, default=0)
    lost: Mapped[int] = mapped_column(BigInteger, default=0)
    late: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    restarts: Mapped[int] = mapped_column(BigInteger, default=0)
    flow_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    counter_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    other_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    unattributed_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    not_ingress_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    missed_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped_samples: Mapped[int] = mapped_column(BigInteger, default=0)


class MacRole(enum.StrEnum):
    """Whether an unknown MAC sent the frames or was sent to."""

    src = "src"
    dst = "dst"


class TrafficUnknownMac(Base):
    """Frames from or to a unicast MAC that belongs to no member (nor to the exchange) in one
    5-minute bucket, at the port where they entered: a misconfigured or unregistered router
    on the fabric. Kept at 5 minutes only, for as long as the 5-minute rows."""

    __tablename__ = "traffic_unknown_macs"
    __table_args__ = (_NO_ROWID,)

    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mac: Mapped[str] = mapped_column(String(17), primary_key=True)
    role: Mapped[MacRole] = mapped_column(
        Enum(MacRole, native_enum=False, length=3), primary_key=True
    )
    agent: Mapped[str] = mapped_column(String(45), primary_key=True)
    if_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    samples: Mapped[int] = mapped_column(BigInteger, default=0)
    packets: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class TrafficRollup(Base):
    """How far the rows of one resolution are complete: every bucket of ``resolution``
    seconds that starts before ``done_until`` has been computed from the finer rows. A
    write into an older bucket moves it back, so the next rollup computes that bucket
    again (``ixp.traffic.rollup``)."""

    __tablename__ = "traffic_rollups"

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    done_until: Mapped[int] = mapped_column(BigInteger, default=0)


class FigureKind(enum.StrEnum):
    """What a member's monthly figure counts."""

    international = "international"
    """Its international (transit) traffic: local share = local / (local + this)."""
    total = "total"
    """All its traffic, local included: local share = local / this."""


class TrafficInternational(Base):
    """A member's international (or total) traffic of one month, in bytes both ways, as the
    member or an operator entered it: what the local share is computed against."""

    __tablename__ = "traffic_international"
    __table_args__ = (UniqueConstraint("asn", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asn: Mapped[int] = mapped_column(BigInteger)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    kind: Mapped[FigureKind] = mapped_column(Enum(FigureKind, native_enum=False, length=16))
    bytes: Mapped[int] = mapped_column(BigInteger)
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
