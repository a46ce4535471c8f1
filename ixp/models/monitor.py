"""What the monitor observed and keeps across restarts: sessions, events, alerts, reachability.

The RIB itself lives only in memory (BGP rebuilds it); these tables hold the
history an operator needs after a restart: when each session went up or down
and why, which alerts fired and cleared, and how domestic reachability moved.
The routes the route servers filtered are kept too, as the monitor last read
them: members' pages read them here, so a NOC reloading its page never makes a
route server walk its table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime, utcnow
from ixp.models.exchange import Exchange, RouteServer


class SessionState(Base):
    """The last seen state of one member session (one BIRD protocol channel) on a route server."""

    __tablename__ = "monitor_session_states"
    __table_args__ = (UniqueConstraint("route_server_id", "protocol", "family"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_server_id: Mapped[int] = mapped_column(ForeignKey("route_servers.id", ondelete="CASCADE"))
    protocol: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(8))
    asn: Mapped[int | None] = mapped_column(BigInteger, index=True)
    neighbor: Mapped[str | None] = mapped_column(String(64))
    up: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(64))
    since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    down_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    imported: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[int] = mapped_column(Integer, default=0)
    exported: Mapped[int] = mapped_column(Integer, default=0)
    import_limit: Mapped[int | None] = mapped_column(Integer)
    max_imported: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    route_server: Mapped[RouteServer] = relationship()


class FilteredRoute(Base):
    """A route a route server's import filter rejected and kept (``import keep filtered``),
    as the monitor's last round read it; ``since`` is the round that first saw it."""

    __tablename__ = "monitor_filtered_routes"
    __table_args__ = (
        UniqueConstraint("route_server_id", "protocol", "prefix"),
        Index("ix_monitor_filtered_routes_member", "asn", "route_server_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_server_id: Mapped[int] = mapped_column(ForeignKey("route_servers.id", ondelete="CASCADE"))
    protocol: Mapped[str] = mapped_column(String(64))
    asn: Mapped[int] = mapped_column(BigInteger)
    prefix: Mapped[str] = mapped_column(String(64))
    next_hop: Mapped[str | None] = mapped_column(String(64))
    as_path: Mapped[str] = mapped_column(Text)
    communities: Mapped[str] = mapped_column(Text)
    large_communities: Mapped[str] = mapped_column(Text)
    since: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SessionEvent(Base):
    """A change seen on a member session: up, down (with reason), or a jump in its prefix count."""

    __tablename__ = "monitor_session_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    route_server_id: Mapped[int] = mapped_column(ForeignKey("route_servers.id", ondelete="CASCADE"))
    protocol: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(8))
    asn: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    prefixes_before: Mapped[int | None] = mapped_column(Integer)
    prefixes_after: Mapped[int | None] = mapped_column(Integer)

    route_server: Mapped[RouteServer] = relationship()


class Alert(Base):
    """An alert: opened when its rule first matches, closed when the condition clears.

    ``key`` identifies the condition (rule, route server, session or member), so
    a condition that persists updates one open alert instead of piling up new ones.
    ``acknowledged_by``/``_at`` say an operator has seen it: it stays open (the
    condition still holds) but no longer waits for someone to notice.
    """

    __tablename__ = "monitor_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    route_server_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_servers.id", ondelete="CASCADE")
    )
    asn: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message: Mapped[str] = mapped_column(String(1000))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    notified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    route_server: Mapped[RouteServer | None] = relationship()


class RirDelegation(Base):
    """One line of an RIR delegated-extended file for the exchange's country (replaced on load)."""

    __tablename__ = "rir_delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rir: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    start: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(BigInteger)
    date: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    opaque_id: Mapped[str | None] = mapped_column(String(100))


class ReachSample(Base):
    """Domestic reachability at one moment, overall (``asn`` NULL) or through one member."""

    __tablename__ = "reach_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    country: Mapped[str] = mapped_column(String(2))
    asn: Mapped[int | None] = mapped_column(BigInteger)
    ipv4_reachable: Mapped[int] = mapped_column(BigInteger)
    ipv4_total: Mapped[int] = mapped_column(BigInteger)
    ipv6_48_reachable: Mapped[int] = mapped_column(BigInteger)
    ipv6_48_total: Mapped[int] = mapped_column(BigInteger)
    asns_reachable: Mapped[int] = mapped_column(Integer)
    asns_total: Mapped[int] = mapped_column(Integer)

    exchange: Mapped[Exchange] = relationship()
