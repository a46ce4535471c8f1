"""What a member sees: its accepted or filtered routes on a route server, with reject reasons.

Read straight from BIRD's control socket (the collector only ever receives
accepted routes). A filtered route carries one large community
``RS_ASN:1101:code`` per rule it broke; they are decoded with the code table
the route-server configuration is generated from (``ixp.rs.codes``), so the
answer here and ``ixp rs explain`` always agree. Each code also has advice: the
problem in plain words about that very route, and what the member can do about
it, so the portal, the API and the CLI tell a member's NOC the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from ipaddress import ip_network
from typing import Protocol

from ixp.bird import BirdClient, BirdCommandError, BirdRoute, ProtocolStatus
from ixp.errors import NotFound, SourceUnavailable
from ixp.models import RouteServer
from ixp.rs.codes import REJECT_NAMESPACE, RejectCode, describe
from ixp.rs.types import Limits


def reject_codes(route: BirdRoute, rs_asn: int) -> list[int]:
    """The reject codes a route carries, in order."""
    return codes_in(route.large_communities, rs_asn)


def codes_in(large_communities: Iterable[str], rs_asn: int) -> list[int]:
    """The reject codes among large communities written ``a:b:c``, in order."""
    prefix = f"{rs_asn}:{REJECT_NAMESPACE}:"
    return sorted(
        int(community.removeprefix(prefix))
        for community in large_communities
        if community.startswith(prefix)
    )


def reason_text(code: int) -> tuple[str, str]:
    """(short name, sentence) of a reject code; an unknown code is named by its number."""
    try:
        info = describe(code)
    except (KeyError, ValueError):
        return f"code-{code}", "a reject code this version does not know"
    return info.name, info.description


@dataclass(frozen=True)
class RouteFacts:
    """What advice about a filtered route names: the route, and the member that sent it.

    ``as_set`` is the member's AS-SET for the route's family (None: it has none, and
    only its own ASN's route objects count); ``origin`` is the last AS of the path
    (None when BIRD cut the path short); ``limits`` the exchange's policy, when known.
    """

    prefix: str
    asn: int
    as_set: str | None
    origin: int | None
    next_hop: str | None
    limits: Limits | None


@dataclass(frozen=True)
class Advice:
    """Why one route was filtered, in words about that route, and what would fix it."""

    code: int
    name: str
    problem: str
    remedy: str

    @property
    def sentence(self) -> str:
        """``problem: remedy``, the one line a list of routes shows."""
        return f"{self.problem}: {self.remedy}"


def _origin(facts: RouteFacts) -> str:
    return f"AS{facts.origin}" if facts.origin is not None else "its origin AS"


def _as_set(facts: RouteFacts) -> str:
    return f"AS-SET {facts.as_set}" if facts.as_set else f"AS{facts.asn}"


def _prefix_length(facts: RouteFacts) -> tuple[str, str]:
    network = ip_network(facts.prefix, strict=False)
    if facts.limits is None:
        problem = f"{facts.prefix} is a /{network.prefixlen}, a length the route servers refuse"
        return problem, "announce it with a prefix length the exchange accepts (its NOC says which)"
    shortest, longest = facts.limits.length_range(network.version)
    problem = (
        f"{facts.prefix} is a /{network.prefixlen}; the route servers accept "
        f"/{shortest} to /{longest} for IPv{network.version}"
    )
    if network.prefixlen > longest:
        return problem, f"announce the covering /{longest} or shorter instead of this more-specific"
    return problem, f"announce it as prefixes of /{shortest} or longer"


def _path_length(facts: RouteFacts) -> tuple[str, str]:
    most = f" {facts.limits.max_as_path_length} ASNs" if facts.limits else " allowed"
    return (
        f"the AS path of {facts.prefix} is longer than{most}",
        "announce it with a shorter path: prepend your ASN fewer times",
    )


# For each reject code: (problem, remedy) about one route. Wording for members' NOCs:
# what is wrong with this route, then the change on their side (router or registry).
REMEDIES: dict[RejectCode, Callable[[RouteFacts], tuple[str, str]]] = {
    RejectCode.PREFIX_LENGTH: _prefix_length,
    RejectCode.BLACKHOLE_NOT_ALLOWED: lambda f: (
        f"{f.prefix} carries the BLACKHOLE community 65535:666, but blackholing is not "
        f"enabled for AS{f.asn}",
        "remove the community from this announcement, or ask the exchange to enable "
        "blackholing for your network",
    ),
    RejectCode.BOGON_PREFIX: lambda f: (
        f"{f.prefix} is special-purpose or unallocated address space (a bogon)",
        "stop announcing it to the exchange: leave it out of your export towards the route "
        "servers (the router configuration on this portal does)",
    ),
    RejectCode.BOGON_ASN: lambda f: (
        f"the AS path of {f.prefix} contains a private or reserved AS number",
        "remove private AS numbers from the path before announcing (remove-private-AS), or "
        "originate the route from your public ASN",
    ),
    RejectCode.AS_PATH_LENGTH: _path_length,
    RejectCode.FIRST_AS: lambda f: (
        f"the AS path of {f.prefix} does not start with your ASN AS{f.asn}",
        f"announce it with AS{f.asn} first in the path: do not strip or replace your ASN on "
        "the sessions with the route servers",
    ),
    RejectCode.NEXT_HOP: lambda f: (
        f"the next hop {f.next_hop or '(none)'} of {f.prefix} is not your router's address "
        "on the peering LAN",
        "announce it with your own peering-LAN address as next hop (next-hop-self towards "
        "the route servers)",
    ),
    RejectCode.PREFIX_NOT_IN_AS_SET: lambda f: (
        f"{f.prefix} is not covered by a route object of {_as_set(f)}",
        f"register a route object with origin {_origin(f)} in your registry; the route "
        "servers take it up at their next registry update",
    ),
    RejectCode.ORIGIN_NOT_IN_AS_SET: lambda f: (
        f"the origin {_origin(f)} of {f.prefix} is not in {_as_set(f)}",
        f"if {_origin(f)} is your customer, add it to {_as_set(f)} in your registry; "
        "otherwise stop announcing the routes it originates",
    ),
    RejectCode.RPKI_INVALID: lambda f: (
        f"{f.prefix} from {_origin(f)} is RPKI invalid: a ROA covers it but allows another "
        "origin or only shorter prefixes",
        f"fix the ROA in your RIR's portal (origin {_origin(f)}, a max length that includes "
        f"{f.prefix}), or announce only what the ROA allows",
    ),
    RejectCode.TRANSIT_FREE_ASN: lambda f: (
        f"the AS path of {f.prefix} contains a transit-free network (a global carrier)",
        "announce only your own and your customers' routes to the exchange, never routes "
        "learnt from your upstream providers",
    ),
}


def advice(code: int, facts: RouteFacts) -> Advice:
    """The advice for one reject code of one route; a code this version does not know
    still gets a name and a way forward."""
    name, _ = reason_text(code)
    try:
        words = REMEDIES[RejectCode(code)]
    except (KeyError, ValueError):
        problem = f"{facts.prefix} was filtered for a reason this version does not know"
        return Advice(code, name, problem, "ask the exchange's NOC")
    problem, remedy = words(facts)
    return Advice(code, name, problem, remedy)


def member_protocols(protocols: Iterable[ProtocolStatus], asn: int) -> list[ProtocolStatus]:
    """The BGP sessions of one member on a route server."""
    return [p for p in protocols if p.proto == "BGP" and p.neighbor_as == asn]


def path_text(route: BirdRoute) -> str:
    """The AS path for people; `` ...`` marks where BIRD cut a long one short."""
    text = " ".join(str(asn) for asn in route.as_path)
    return f"{text} ..." if route.as_path_truncated else text


@dataclass(frozen=True)
class RouteRow:
    """A member's route on a route server, as ``ixp routes`` and the API show it; ``rpki``
    is the route server's RPKI state of an accepted route (``valid`` or ``unknown``), None
    for a filtered route."""

    route_server: str
    prefix: str
    protocol: str
    next_hop: str | None
    as_path: str
    communities: str
    large_communities: str
    rpki: str | None


@dataclass(frozen=True)
class FilteredRouteRow(RouteRow):
    """A filtered route with why: its reject codes, their short names joined (``reasons``)
    and each in a sentence (``reason_details``); ``since``, when kept by the monitor, is
    the round that first saw it filtered."""

    reject_codes: tuple[int, ...]
    reasons: str
    reason_details: tuple[str, ...]
    since: dt.datetime | None = None


def route_row(route: BirdRoute, rs: RouteServer, filtered: bool) -> RouteRow:
    """A route for the CLI and API; filtered routes get their decoded reasons."""
    row = RouteRow(
        route_server=rs.name,
        prefix=route.prefix,
        protocol=route.protocol,
        next_hop=route.next_hop,
        as_path=path_text(route),
        communities=" ".join(route.communities),
        large_communities=" ".join(route.large_communities),
        rpki=route.rpki.label if route.rpki and not filtered else None,
    )
    return with_reasons(row, rs.asn) if filtered else row


def with_reasons(row: RouteRow, rs_asn: int, since: dt.datetime | None = None) -> FilteredRouteRow:
    """``row`` as a filtered route, its reject codes decoded from its large communities."""
    codes = codes_in(row.large_communities.split(), rs_asn)
    reasons = [reason_text(code) for code in codes]
    return FilteredRouteRow(
        **asdict(row),
        reject_codes=tuple(codes),
        reasons=", ".join(name for name, _ in reasons) or "no reject community",
        reason_details=tuple(f"{name}: {sentence}" for name, sentence in reasons),
        since=since,
    )


def route_advice(
    row: FilteredRouteRow, *, asn: int, as_set: str | None, limits: Limits | None
) -> tuple[Advice, ...]:
    """The advice for each reject code of a filtered route of member ``asn``, whose AS-SET
    for the route's family is ``as_set``."""
    hops = row.as_path.split()
    origin = int(hops[-1]) if hops and hops[-1].isdigit() else None
    facts = RouteFacts(row.prefix, asn, as_set, origin, row.next_hop, limits)
    return tuple(advice(code, facts) for code in row.reject_codes)


class RouteReader(Protocol):
    """Where a member's sessions and routes are read: BIRD itself, or a cache in front of it
    (``ixp.lg.CachedReader``, for the web pages)."""

    def protocols(self, socket: str) -> list[ProtocolStatus]:
        """``show protocols all``."""
        ...

    def routes(self, socket: str, scope: str) -> list[BirdRoute]:
        """``show route <scope> all``."""
        ...


@dataclass(frozen=True)
class DirectReader:
    """Asks BIRD every time (the CLI: one person, one answer, as fresh as it gets)."""

    timeout: float

    def protocols(self, socket: str) -> list[ProtocolStatus]:
        """``show protocols all`` now."""
        with BirdClient(socket, timeout=self.timeout) as bird:
            return bird.protocols()

    def routes(self, socket: str, scope: str) -> list[BirdRoute]:
        """``show route <scope> all`` now."""
        with BirdClient(socket, timeout=self.timeout) as bird:
            return bird.routes(scope)


def member_routes(
    route_servers: Sequence[RouteServer],
    asn: int,
    *,
    reader: RouteReader,
    filtered: bool = False,
    sockets: Mapping[str, str] | None = None,
) -> list[RouteRow]:
    """A member's accepted (or filtered) routes on each given route server, sorted by prefix.

    Filtered routes asked this way cost the route server a walk of its whole table per
    session (BIRD 2.0 keeps no index by protocol): only for one person asking now (the
    CLI's ``--live``); the pages and the API read what the monitor keeps
    (``ixp.monitor.filtered``), read in one walk a round.

    ``sockets`` replaces stored control-socket paths by route-server name (the lab).
    A BIRD that cannot be reached, or that refuses a command, is ``SourceUnavailable``:
    the answer would be incomplete, and the caller may try again.
    """
    rows: list[RouteRow] = []
    sessions = 0
    for rs in route_servers:
        socket = (sockets or {}).get(rs.name, rs.control_socket)
        try:
            protocols = member_protocols(reader.protocols(socket), asn)
            sessions += len(protocols)
            for protocol in protocols:
                if not filtered:
                    found = reader.routes(socket, f"protocol {protocol.name}")
                elif protocol.filtered:
                    found = reader.routes(socket, f"filtered protocol {protocol.name}")
                else:
                    # BIRD counts the filtered routes each session keeps: most members
                    # have none, and their answer needs no walk of the route server's
                    # table (seconds of its CPU at a million routes).
                    found = []
                rows.extend(route_row(route, rs, filtered) for route in found)
        except BirdCommandError as exc:
            raise SourceUnavailable(f"route server {rs.name}: {exc}") from None
    if not sessions:
        names = ", ".join(rs.name for rs in route_servers)
        raise NotFound(f"asn: AS{asn} has no session on route server(s) {names}")
    rows.sort(key=lambda row: (row.prefix, row.route_server))
    return rows
