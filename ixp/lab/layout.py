"""Who is in a lab: route servers, members, their addresses and what each member announces.

The layout is plain frozen data so a test can write one by hand and the monitor
can reuse it; :func:`layout_from_database` builds the one ``ixp lab up`` runs:
every route server of the exchange, and every active member announcing its
registered prefixes (the current IRR data, up to ``settings.lab_routes_per_member``
per family) plus a few routes the policy must reject (:func:`rejected_examples`),
so a new user sees both sides of the filters at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.exchange import get_exchange, peering_lan
from ixp.irr.service import irr_for_member
from ixp.lab.member import Route
from ixp.members import list_members
from ixp.models import Exchange, Member, MemberStatus
from ixp.rs.snippets import snippet_of
from ixp.settings import Settings

# Bogon ASN (first private 16-bit ASN) put behind the member in a rejected example.
EXAMPLE_BOGON_ASN = 64512
# What can run a member: ExaBGP (any route, however wrong), or a real router on its snippet.
ROUTERS = ("exabgp", "frr", "bird")


@dataclass(frozen=True)
class RouteServerNode:
    """A route server as the lab runs it."""

    name: str
    asn: int
    router_id: str
    ipv4: str | None
    ipv6: str | None

    @property
    def addresses(self) -> tuple[str, ...]:
        """Its LAN addresses, IPv4 first."""
        return tuple(a for a in (self.ipv4, self.ipv6) if a is not None)


@dataclass(frozen=True)
class MemberNode:
    """A member as the lab runs it: addresses, what its router announces, whom it peers with.

    ``peers`` are route-server addresses; empty means every address of every
    route server in the layout. ``router`` is what runs the member: ExaBGP, or
    FRR or BIRD on ``snippet`` (its ``ixp member snippet`` for that platform),
    originating ``routes``.
    """

    asn: int
    name: str
    ipv4: str | None
    ipv6: str | None
    routes: tuple[Route, ...] = ()
    receive: bool = True
    peers: tuple[str, ...] = ()
    router: str = "exabgp"
    snippet: str = ""

    def __post_init__(self) -> None:
        if self.router not in ROUTERS:
            raise ValidationError("router", self.router, f"must be one of {', '.join(ROUTERS)}")


@dataclass(frozen=True)
class LabLayout:
    """Everything the lab needs to know about an exchange, without a database."""

    lan4: str | None
    lan6: str | None
    route_servers: tuple[RouteServerNode, ...]
    members: tuple[MemberNode, ...]

    def member(self, asn: int) -> MemberNode:
        """The member with ``asn``."""
        for member in self.members:
            if member.asn == asn:
                return member
        raise KeyError(asn)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (kept in the lab's state file)."""
        data = asdict(self)
        for member, raw in zip(self.members, data["members"], strict=True):
            raw["routes"] = [route.to_dict() for route in member.routes]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabLayout:
        """The inverse of :meth:`to_dict`."""
        return cls(
            lan4=data["lan4"],
            lan6=data["lan6"],
            route_servers=tuple(RouteServerNode(**raw) for raw in data["route_servers"]),
            members=tuple(
                MemberNode(
                    **{
                        **raw,
                        "routes": tuple(Route.from_dict(r) for r in raw["routes"]),
                        "peers": tuple(raw.get("peers") or ()),
                    }
                )
                for raw in data["members"]
            ),
        )


def _subnet(prefix: str, length: int, last: bool = False) -> str | None:
    """The first (or last) subnet of ``prefix`` at ``length``, if ``prefix`` is shorter."""
    network = ipaddress.ip_network(prefix)
    if network.prefixlen >= length:
        return None
    shift = network.max_prefixlen - length
    edge = network.broadcast_address if last else network.network_address
    return str(type(network)(((int(edge) >> shift) << shift, length)))


def rejected_examples(
    asn: int, registered: Mapping[int, list[str]], families: set[int]
) -> list[Route]:
    """Routes a correct route-server policy must filter, for a member announcing ``registered``.

    One bogon prefix per family the member has an address in; and, inside its
    first registered prefix of each family, a too-long more-specific and a
    more-specific of allowed length with a private ASN behind the member. No
    example reuses a registered prefix: a speaker announces a prefix only once.
    """
    routes: list[Route] = []
    bogons = {4: "192.168.0.0/16", 6: "2001:db8::/32"}
    longest = {4: 24, 6: 48}
    for family in sorted(families):
        routes.append(Route(bogons[family]))
        prefixes = registered.get(family) or []
        if not prefixes:
            continue
        too_long = _subnet(prefixes[0], longest[family] + 1)
        if too_long is not None:
            routes.append(Route(too_long))
        behind = _subnet(prefixes[0], longest[family], last=True)
        if behind is not None and behind not in prefixes:
            routes.append(Route(behind, as_path=(asn, EXAMPLE_BOGON_ASN)))
    return routes


def _registered(session: Session, member: Member, limit: int) -> dict[int, list[str]]:
    """The member's registered prefixes per family, from the registry data the config uses."""
    data = irr_for_member(session, member)
    if data is None:
        return {4: [], 6: []}
    return {4: [e.prefix for e in data.v4[:limit]], 6: [e.prefix for e in data.v6[:limit]]}


def _member_node(
    session: Session,
    member: Member,
    settings: Settings,
    routes: Sequence[Route] | None,
    router: str = "exabgp",
) -> MemberNode:
    """The member as the lab runs it; a snippet router originates its registered prefixes only.

    Rejected examples need a speaker that sends any path or next hop: ExaBGP.
    """
    addresses = {address.family: address.address for address in member.addresses}
    families: set[int] = {family for family in (4, 6) if family in addresses}
    if routes is None:
        registered = _registered(session, member, settings.lab_routes_per_member)
        routes = [Route(p) for family in sorted(families) for p in registered.get(family, [])]
        if router == "exabgp":
            routes += rejected_examples(member.asn, registered, families)
    peers = tuple(
        address
        for rs_session in member.rs_sessions
        for family, enabled, address in (
            (4, rs_session.ipv4_enabled, rs_session.route_server.ipv4),
            (6, rs_session.ipv6_enabled, rs_session.route_server.ipv6),
        )
        if enabled and address is not None and family in families
    )
    return MemberNode(
        asn=member.asn,
        name=member.display_name,
        ipv4=addresses.get(4),
        ipv6=addresses.get(6),
        routes=tuple(routes),
        peers=peers,
        router=router,
        snippet="" if router == "exabgp" else snippet_of(session, member, router),
    )


def layout_from_database(
    session: Session,
    settings: Settings,
    exchange: Exchange | None = None,
    configured: Collection[int] | None = None,
    routes: Mapping[int, Sequence[Route]] | None = None,
    routers: Mapping[int, str] | None = None,
) -> LabLayout:
    """The lab of an exchange: all its route servers and its active members with sessions.

    ``configured``, if given, are the ASNs the route-server configs have sessions
    for (members the build leaves out are left out of the lab too). ``routes``
    replaces, per ASN, what the member announces (a test's or an operator's
    scenario) instead of its registered prefixes and the rejected examples.
    ``routers`` runs, per ASN, FRR or BIRD on the member's snippet instead of ExaBGP.
    """
    exchange = exchange or get_exchange(session)
    lan = peering_lan(exchange)
    members = [
        member
        for member in list_members(session, exchange)
        if member.status == MemberStatus.active
        and member.addresses
        and member.rs_sessions
        and (configured is None or member.asn in configured)
    ]
    return LabLayout(
        lan4=lan.ipv4_prefix,
        lan6=lan.ipv6_prefix,
        route_servers=tuple(
            RouteServerNode(rs.name, rs.asn, rs.router_id, rs.ipv4, rs.ipv6)
            for rs in exchange.route_servers
        ),
        members=tuple(
            _member_node(
                session,
                member,
                settings,
                (routes or {}).get(member.asn),
                (routers or {}).get(member.asn, "exabgp"),
            )
            for member in members
        ),
    )
