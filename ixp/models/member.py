"""Members (the ISPs on the exchange), their connections, addresses and session settings."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base
from ixp.models.exchange import Exchange, PeeringLan, Port, RouteServer


class MemberStatus(enum.StrEnum):
    """Where a member is in its life on the exchange; only active members get sessions."""

    onboarding = "onboarding"
    active = "active"
    suspended = "suspended"
    departed = "departed"


class MaxPrefixAction(enum.StrEnum):
    """What BIRD does when a member exceeds its max-prefix limit (BIRD ``import limit`` actions)."""

    restart = "restart"
    disable = "disable"
    block = "block"
    warn = "warn"


class Member(Base):
    """An ISP connected to the exchange, identified by its ASN."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("exchange_id", "asn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    asn: Mapped[int] = mapped_column(BigInteger)
    legal_name: Mapped[str] = mapped_column(String(500))
    display_name: Mapped[str] = mapped_column(String(500))
    as_set_v4: Mapped[str | None] = mapped_column(String(255))
    as_set_v6: Mapped[str | None] = mapped_column(String(255))
    max_prefix_v4: Mapped[int] = mapped_column(Integer)
    max_prefix_v6: Mapped[int] = mapped_column(Integer)
    max_prefix_action: Mapped[MaxPrefixAction] = mapped_column(
        Enum(MaxPrefixAction, native_enum=False, length=16), default=MaxPrefixAction.restart
    )
    peeringdb_id: Mapped[int | None] = mapped_column(Integer)
    noc_email: Mapped[str | None] = mapped_column(String(320))
    noc_phone: Mapped[str | None] = mapped_column(String(64))
    peering_email: Mapped[str | None] = mapped_column(String(320))
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MemberStatus] = mapped_column(
        Enum(MemberStatus, native_enum=False, length=16), default=MemberStatus.onboarding
    )
    joined: Mapped[dt.date | None] = mapped_column(Date)
    announcement_control: Mapped[bool] = mapped_column(Boolean, default=True)
    blackholing: Mapped[bool] = mapped_column(Boolean, default=False)
    third_party_next_hop: Mapped[bool] = mapped_column(Boolean, default=False)

    exchange: Mapped[Exchange] = relationship()
    connections: Mapped[list[Connection]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Connection.id"
    )
    addresses: Mapped[list[LanAddress]] = relationship(
        back_populates="member",
        cascade="all, delete-orphan",
        order_by="(LanAddress.family, LanAddress.address)",
    )
    rs_sessions: Mapped[list[RsSession]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="RsSession.route_server_id"
    )


class Connection(Base):
    """A member's physical connection to the exchange (one port, possibly a LAG member)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    lan_id: Mapped[int] = mapped_column(ForeignKey("peering_lans.id", ondelete="RESTRICT"))
    port_id: Mapped[int | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), unique=True
    )
    speed_mbps: Mapped[int | None] = mapped_column(Integer)

    member: Mapped[Member] = relationship(back_populates="connections")
    lan: Mapped[PeeringLan] = relationship()
    port: Mapped[Port | None] = relationship()
    macs: Mapped[list[MacAddress]] = relationship(
        back_populates="connection", cascade="all, delete-orphan", order_by="MacAddress.mac"
    )


class MacAddress(Base):
    """A MAC address allowed on a member's port (for port security / the sFlow matrix)."""

    __tablename__ = "mac_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    mac: Mapped[str] = mapped_column(String(17), unique=True)

    connection: Mapped[Connection] = relationship(back_populates="macs")


class LanAddress(Base):
    """A member's address on a peering LAN; one per family per member in the usual case."""

    __tablename__ = "lan_addresses"
    __table_args__ = (UniqueConstraint("lan_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    lan_id: Mapped[int] = mapped_column(ForeignKey("peering_lans.id", ondelete="RESTRICT"))
    family: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship(back_populates="addresses")
    lan: Mapped[PeeringLan] = relationship()


class RsSession(Base):
    """Whether a member peers with one route server, per address family."""

    __tablename__ = "rs_sessions"
    __table_args__ = (UniqueConstraint("member_id", "route_server_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    route_server_id: Mapped[int] = mapped_column(ForeignKey("route_servers.id", ondelete="CASCADE"))
    ipv4_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    ipv6_enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    member: Mapped[Member] = relationship(back_populates="rs_sessions")
    route_server: Mapped[RouteServer] = relationship()
