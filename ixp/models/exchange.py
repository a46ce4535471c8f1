"""The exchange itself: peering LANs, sites, switches, ports and route servers."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base


class Exchange(Base):
    """One internet exchange (a national IXP, or one city's fabric of it)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    asn: Mapped[int] = mapped_column(BigInteger)
    blackhole_ipv4: Mapped[str | None] = mapped_column(String(64))
    blackhole_ipv6: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))

    lans: Mapped[list[PeeringLan]] = relationship(
        back_populates="exchange", order_by="PeeringLan.id"
    )
    sites: Mapped[list[Site]] = relationship(back_populates="exchange", order_by="Site.id")
    route_servers: Mapped[list[RouteServer]] = relationship(
        back_populates="exchange", order_by="RouteServer.name"
    )


class PeeringLan(Base):
    """The shared layer-2 network members peer over: one VLAN with a v4 and a v6 subnet."""

    __tablename__ = "peering_lans"
    __table_args__ = (UniqueConstraint("exchange_id", "vlan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    vlan_id: Mapped[int] = mapped_column(Integer)
    ipv4_prefix: Mapped[str | None] = mapped_column(String(64))
    ipv6_prefix: Mapped[str | None] = mapped_column(String(64))

    exchange: Mapped[Exchange] = relationship(back_populates="lans")


class Site(Base):
    """A building the exchange has switches in."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("exchange_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(200))

    exchange: Mapped[Exchange] = relationship(back_populates="sites")
    switches: Mapped[list[Switch]] = relationship(back_populates="site", order_by="Switch.name")


class Switch(Base):
    """A peering switch at a site."""

    __tablename__ = "switches"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    mgmt_host: Mapped[str | None] = mapped_column(String(255))

    site: Mapped[Site] = relationship(back_populates="switches")
    ports: Mapped[list[Port]] = relationship(back_populates="switch", order_by="Port.name")


class Port(Base):
    """A physical switch port a member connection uses."""

    __tablename__ = "ports"
    __table_args__ = (UniqueConstraint("switch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    switch_id: Mapped[int] = mapped_column(ForeignKey("switches.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    speed_mbps: Mapped[int] = mapped_column(Integer)

    switch: Mapped[Switch] = relationship(back_populates="ports")


class RouteServer(Base):
    """A BIRD route server members peer with."""

    __tablename__ = "route_servers"
    __table_args__ = (UniqueConstraint("exchange_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    lan_id: Mapped[int] = mapped_column(ForeignKey("peering_lans.id", ondelete="RESTRICT"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(64))
    asn: Mapped[int] = mapped_column(BigInteger)
    router_id: Mapped[str] = mapped_column(String(64))
    ipv4: Mapped[str | None] = mapped_column(String(64))
    ipv6: Mapped[str | None] = mapped_column(String(64))
    mgmt_host: Mapped[str | None] = mapped_column(String(255))
    control_socket: Mapped[str] = mapped_column(String(500), default="/run/bird/bird.ctl")

    exchange: Mapped[Exchange] = relationship(back_populates="route_servers")
    lan: Mapped[PeeringLan] = relationship()
    site: Mapped[Site | None] = relationship()
