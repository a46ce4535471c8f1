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
from ixp.errors import Conflict, NotFound, Problems, Remedy, ValidationError
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


def _lan_subnet(value: str, field: str, family: int) -> str:
    """A peering-LAN subnet of ``family``, of a size an exchange can have: its CIDR text."""
    net = validate.network(value, field, family)
    shortest, longest = (8, 30) if family == 4 else (32, 120)
    if not shortest <= net.prefixlen <= longest:
        raise ValidationError(field, value, f"must be between /{shortest} and /{longest}")
    return str(net.cidr)


def _rs_name(value: str) -> str:
    """A route server's name: it becomes a file name and part of BIRD identifiers."""
    if not isinstance(value, str) or not _RS_NAME.fullmatch(value):
        raise ValidationError(
            "name", validate.shown(value), "must be lower-case letters, digits and '-' (max 31)"
        )
    return value


def _vlan_id(value: int) -> int:
    """An 802.1Q VLAN id."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4094:
        raise ValidationError("vlan_id", validate.shown(value), "must be from 1 to 4094")
    return value


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


@dataclass(frozen=True)
class PeeringLanView:
    """A peering LAN: the VLAN members peer over and its subnets."""

    name: str
    vlan_id: int
    ipv4_prefix: str | None
    ipv6_prefix: str | None

    @classmethod
    def of(cls, lan: PeeringLan) -> PeeringLanView:
        """The view of a peering LAN."""
        return cls(
            name=lan.name,
            vlan_id=lan.vlan_id,
            ipv4_prefix=lan.ipv4_prefix,
            ipv6_prefix=lan.ipv6_prefix,
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


def list_peering_lans(session: Session, exchange: Exchange | None = None) -> list[PeeringLanView]:
    """The exchange's peering LANs, the one members get addresses on first."""
    exchange = exchange or get_exchange(session)
    return [PeeringLanView.of(lan) for lan in exchange.lans]


def show_route_server(
    session: Session, name: str, exchange: Exchange | None = None
) -> RouteServerView:
    """A route server by name, as a view."""
    return RouteServerView.of(get_route_server(session, name, exchange))


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
    """Create an exchange with its peering LAN; every bad field is reported at once."""
    problems = Problems()
    checked_name = problems.check(check_name, name)
    url = problems.check(_optional_text, url, "url", Exchange.url)
    code = problems.check(validate.country, country)
    number = problems.check(validate.asn, asn, "asn", allow_lab=allow_lab)
    if not lan_v4 and not lan_v6:
        problems.add(ValidationError("lan_v4", None, "or lan_v6 must be given"))
    given = {4: lan_v4, 6: lan_v6}
    subnets = {f: problems.check(_lan_subnet, v, f"lan_v{f}", f) for f, v in given.items() if v}
    lan = PeeringLan(
        vlan_id=problems.check(_vlan_id, vlan_id),
        ipv4_prefix=subnets.get(4),
        ipv6_prefix=subnets.get(6),
    )
    # A blackhole next hop is checked against its family's subnet, unless that one is bad.
    usable = {f for f in (4, 6) if not given[f] or subnets[f] is not None}
    blackholes = {
        f: problems.check(addressing.check_in_lan, v, f"blackhole_ipv{f}", lan, f)
        for f, v in ((4, blackhole_ipv4), (6, blackhole_ipv6))
        if v and f in usable
    }
    problems.raise_any()
    assert checked_name is not None and code is not None and number is not None
    lan.name = f"{checked_name}{_LAN_NAME_SUFFIX}"
    if session.scalar(select(Exchange.id).where(Exchange.name == checked_name)) is not None:
        raise Conflict(f"exchange {checked_name!r} already exists", field="name")
    exchange = Exchange(
        name=checked_name,
        country=code,
        asn=number,
        url=url,
        blackhole_ipv4=blackholes.get(4),
        blackhole_ipv6=blackholes.get(6),
    )
    exchange.lans.append(lan)
    with transaction(session):
        session.add(exchange)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="exchange",
            key=checked_name,
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
    """Add a route server on the exchange's peering LAN; existing members get sessions with it.

    Every bad field is reported at once."""
    exchange = exchange or get_exchange(session)
    lan = peering_lan(exchange)
    problems = Problems()
    problems.check(_rs_name, name)
    mgmt_host = problems.check(_optional_text, mgmt_host, "mgmt_host", RouteServer.mgmt_host)
    socket = problems.check(
        _optional_text, control_socket, "control_socket", RouteServer.control_socket
    )
    number = problems.check(validate.asn, asn, "asn", allow_lab=allow_lab)
    rid = problems.check(validate.address, router_id, "router_id", 4)
    addresses = {
        f: problems.check(addressing.check_in_lan, v, f"ipv{f}", lan, f)
        for f, v in ((4, ipv4), (6, ipv6))
        if v
    }
    if not addresses:
        problems.add(ValidationError("ipv4", None, "or ipv6 must be given"))
    problems.raise_any()
    if any(rs.name == name for rs in exchange.route_servers):
        raise Conflict(f"route server {name!r} already exists", field="name")
    for family, address in addresses.items():
        if address is not None:
            addressing.check_free(session, address, f"ipv{family}", lan, family)
    rs = RouteServer(
        exchange=exchange,
        lan=lan,
        name=name,
        asn=number,
        router_id=str(rid),
        ipv4=addresses.get(4),
        ipv6=addresses.get(6),
        mgmt_host=mgmt_host,
        control_socket=socket or f"/run/bird/{name}.ctl",
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
