"""The exchange, its peering LAN and its route servers: set up once, read everywhere.

Services return ``ExchangeView`` and ``RouteServerView`` (plain, typed data for
the CLI and the API); ``get_exchange`` and ``get_route_server`` return the rows
for other services to build on. The audit log keeps its own snapshots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import addressing, audit, validate
from ixp.db import transaction
from ixp.errors import Conflict, NotFound, Remedy, ValidationError
from ixp.models import Exchange, Member, PeeringLan, RouteServer, RsSession

# Route-server names become file names and BIRD identifiers: keep them plain.
_RS_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
# The peering LAN is named after the exchange: "<exchange name> peering LAN".
_LAN_NAME_SUFFIX = " peering LAN"


def _length(column: Any) -> int:
    """The declared length of a String column, so that the checks follow the schema."""
    return int(column.type.length)


# The longest exchange name whose LAN name still fits its column (PostgreSQL
# refuses longer values; SQLite would store them, so the check is ours).
NAME_MAX_LENGTH = min(_length(Exchange.name), _length(PeeringLan.name) - len(_LAN_NAME_SUFFIX))


def check_name(value: str, field: str = "name") -> str:
    """An exchange name: one line of text short enough for the LAN name made from it."""
    return validate.text(value, field, max_length=NAME_MAX_LENGTH)


def _optional_text(value: str | None, field: str, column: Any) -> str | None:
    """Optional free text for ``column``: None when not given, else checked against its length."""
    return validate.text(value, field, max_length=_length(column)) if value else None


@dataclass(frozen=True)
class ExchangeView:
    """The exchange and its peering LAN; field names are ``init_exchange``'s parameters."""

    name: str
    country: str
    asn: int
    url: str | None
    vlan_id: int | None
    lan_v4: str | None
    lan_v6: str | None
    blackhole_ipv4: str | None
    blackhole_ipv6: str | None

    @classmethod
    def of(cls, exchange: Exchange) -> ExchangeView:
        """The view of an exchange (its first peering LAN)."""
        lan = exchange.lans[0] if exchange.lans else None
        return cls(
            name=exchange.name,
            country=exchange.country,
            asn=exchange.asn,
            url=exchange.url,
            vlan_id=lan.vlan_id if lan else None,
            lan_v4=lan.ipv4_prefix if lan else None,
            lan_v6=lan.ipv6_prefix if lan else None,
            blackhole_ipv4=exchange.blackhole_ipv4,
            blackhole_ipv6=exchange.blackhole_ipv6,
        )


@dataclass(frozen=True)
class RouteServerView:
    """A route server; field names are ``add_route_server``'s parameters."""

    name: str
    asn: int
    router_id: str
    ipv4: str | None
    ipv6: str | None
    mgmt_host: str | None
    control_socket: str | None

    @classmethod
    def of(cls, rs: RouteServer) -> RouteServerView:
        """The view of a route server."""
        return cls(
            name=rs.name,
            asn=rs.asn,
            router_id=rs.router_id,
            ipv4=rs.ipv4,
            ipv6=rs.ipv6,
            mgmt_host=rs.mgmt_host,
            control_socket=rs.control_socket,
        )


def get_exchange(session: Session, name: str | None = None) -> Exchange:
    """The named exchange, or the only one when no name is given."""
    if name is not None:
        check_name(name)  # before the query: PostgreSQL refuses NUL even in a WHERE clause
        exchange = session.scalar(select(Exchange).where(Exchange.name == name))
        if exchange is None:
            raise NotFound("does not exist", field="exchange", value=name)
        return exchange
    exchanges = list(session.scalars(select(Exchange).order_by(Exchange.id).limit(2)))
    if not exchanges:
        raise NotFound("none exists yet", field="exchange", hint=Remedy.INIT_EXCHANGE)
    if len(exchanges) > 1:
        raise ValidationError("exchange", None, "must be named: this database holds several")
    return exchanges[0]


def show_exchange(session: Session, name: str | None = None) -> ExchangeView:
    """The named exchange (or the only one), as a view."""
    return ExchangeView.of(get_exchange(session, name))


def list_route_servers(session: Session, exchange: Exchange | None = None) -> list[RouteServerView]:
    """The exchange's route servers by name, as views."""
    exchange = exchange or get_exchange(session)
    return [RouteServerView.of(rs) for rs in sorted(exchange.route_servers, key=lambda r: r.name)]


def peering_lan(exchange: Exchange) -> PeeringLan:
    """The exchange's peering LAN (the first, when it has several)."""
    if not exchange.lans:
        raise NotFound(f"exchange {exchange.name!r} has none", field="peering LAN")
    return exchange.lans[0]


def init_exchange(
    session: Session,
    *,
    name: str,
    country: str,
    asn: int | str,
    lan_v4: str | None,
    lan_v6: str | None,
    vlan_id: int = 100,
    blackhole_ipv4: str | None = None,
    blackhole_ipv6: str | None = None,
    url: str | None = None,
    allow_lab: bool = False,
    actor: str,
) -> ExchangeView:
    """Create an exchange with its peering LAN."""
    name = check_name(name)
    url = _optional_text(url, "url", Exchange.url)
    code = validate.country(country)
    number = validate.asn(asn, "asn", allow_lab=allow_lab)
    if lan_v4 is None and lan_v6 is None:
        raise ValidationError("lan_v4", None, "or lan_v6 must be given")
    net4 = validate.network(lan_v4, "lan_v4", 4) if lan_v4 else None
    net6 = validate.network(lan_v6, "lan_v6", 6) if lan_v6 else None
    if net4 is not None and not 8 <= net4.prefixlen <= 30:
        raise ValidationError("lan_v4", lan_v4, "must be between /8 and /30")
    if net6 is not None and not 32 <= net6.prefixlen <= 120:
        raise ValidationError("lan_v6", lan_v6, "must be between /32 and /120")
    if not 1 <= vlan_id <= 4094:
        raise ValidationError("vlan_id", vlan_id, "must be from 1 to 4094")
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise Conflict(f"exchange {name!r} already exists", field="name")
    exchange = Exchange(name=name, country=code, asn=number, url=url)
    lan = PeeringLan(
        name=f"{name}{_LAN_NAME_SUFFIX}",
        vlan_id=vlan_id,
        ipv4_prefix=str(net4.cidr) if net4 else None,
        ipv6_prefix=str(net6.cidr) if net6 else None,
    )
    exchange.lans.append(lan)
    exchange.blackhole_ipv4 = (
        addressing.check_in_lan(blackhole_ipv4, "blackhole_ipv4", lan, 4)
        if blackhole_ipv4
        else None
    )
    exchange.blackhole_ipv6 = (
        addressing.check_in_lan(blackhole_ipv6, "blackhole_ipv6", lan, 6)
        if blackhole_ipv6
        else None
    )
    with transaction(session):
        session.add(exchange)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="exchange",
            key=name,
            after=audit.exchange_snapshot(exchange),
        )
    return ExchangeView.of(exchange)


def add_route_server(
    session: Session,
    *,
    name: str,
    asn: int | str,
    router_id: str,
    ipv4: str | None,
    ipv6: str | None,
    mgmt_host: str | None = None,
    control_socket: str | None = None,
    exchange: Exchange | None = None,
    allow_lab: bool = False,
    actor: str,
) -> RouteServerView:
    """Add a route server on the exchange's peering LAN; existing members get sessions with it."""
    exchange = exchange or get_exchange(session)
    lan = peering_lan(exchange)
    if not _RS_NAME.fullmatch(name):
        raise ValidationError(
            "name", validate.shown(name), "must be lower-case letters, digits and '-' (max 31)"
        )
    mgmt_host = _optional_text(mgmt_host, "mgmt_host", RouteServer.mgmt_host)
    control_socket = _optional_text(control_socket, "control_socket", RouteServer.control_socket)
    number = validate.asn(asn, "asn", allow_lab=allow_lab)
    rid = str(validate.address(router_id, "router_id", 4))
    addr4 = addressing.check_in_lan(ipv4, "ipv4", lan, 4) if ipv4 else None
    addr6 = addressing.check_in_lan(ipv6, "ipv6", lan, 6) if ipv6 else None
    if addr4 is None and addr6 is None:
        raise ValidationError("ipv4", None, "or ipv6 must be given")
    if any(rs.name == name for rs in exchange.route_servers):
        raise Conflict(f"route server {name!r} already exists", field="name")
    for family, addr in ((4, addr4), (6, addr6)):
        if addr:
            addressing.check_free(session, addr, f"ipv{family}", lan, family)
    rs = RouteServer(
        exchange=exchange,
        lan=lan,
        name=name,
        asn=number,
        router_id=rid,
        ipv4=addr4,
        ipv6=addr6,
        mgmt_host=mgmt_host,
        control_socket=control_socket or f"/run/bird/{name}.ctl",
    )
    with transaction(session):
        session.add(rs)
        session.flush()
        members = session.scalars(select(Member).where(Member.exchange_id == exchange.id))
        for member in members:
            session.add(RsSession(member=member, route_server=rs))
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="route_server",
            key=name,
            after=audit.route_server_snapshot(rs),
        )
    return RouteServerView.of(rs)


def get_route_server(session: Session, name: str, exchange: Exchange | None = None) -> RouteServer:
    """A route server by name."""
    exchange = exchange or get_exchange(session)
    for rs in exchange.route_servers:
        if rs.name == name:
            return rs
    raise NotFound("does not exist", field="route server", value=validate.shown(name))
