"""What a member sees: its accepted or filtered routes on a route server, with reject reasons.

Read straight from BIRD's control socket (the collector only ever receives
accepted routes). A filtered route carries one large community
``RS_ASN:1101:code`` per rule it broke; they are decoded with the code table
the route-server configuration is generated from (``ixp.rs.codes``), so the
answer here and ``ixp rs explain`` always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from ixp.bird import BirdClient, BirdCommandError, BirdRoute, ProtocolStatus
from ixp.errors import NotFound, SourceUnavailable
from ixp.models import RouteServer
from ixp.rs.codes import REJECT_NAMESPACE, describe


def reject_codes(route: BirdRoute, rs_asn: int) -> list[int]:
    """The reject codes a route carries, in order."""
    prefix = f"{rs_asn}:{REJECT_NAMESPACE}:"
    return sorted(
        int(community.removeprefix(prefix))
        for community in route.large_communities
        if community.startswith(prefix)
    )


def reason_text(code: int) -> tuple[str, str]:
    """(short name, sentence) of a reject code; an unknown code is named by its number."""
    try:
        info = describe(code)
    except (KeyError, ValueError):
        return f"code-{code}", "a reject code this version does not know"
    return info.name, info.description


def member_protocols(protocols: Iterable[ProtocolStatus], asn: int) -> list[ProtocolStatus]:
    """The BGP sessions of one member on a route server."""
    return [p for p in protocols if p.proto == "BGP" and p.neighbor_as == asn]


def path_text(route: BirdRoute) -> str:
    """The AS path for people; `` ...`` marks where BIRD cut a long one short."""
    text = " ".join(str(asn) for asn in route.as_path)
    return f"{text} ..." if route.as_path_truncated else text


@dataclass(frozen=True)
class RouteRow:
    """A member's route on a route server, as ``ixp routes`` and the API show it."""

    route_server: str
    prefix: str
    protocol: str
    next_hop: str | None
    as_path: str
    communities: str
    large_communities: str


@dataclass(frozen=True)
class FilteredRouteRow(RouteRow):
    """A filtered route with why: its reject codes, their short names joined (``reasons``)
    and each in a sentence (``reason_details``)."""

    reject_codes: tuple[int, ...]
    reasons: str
    reason_details: tuple[str, ...]


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
    )
    if not filtered:
        return row
    codes = reject_codes(route, rs.asn)
    reasons = [reason_text(code) for code in codes]
    return FilteredRouteRow(
        **asdict(row),
        reject_codes=tuple(codes),
        reasons=", ".join(name for name, _ in reasons) or "no reject community",
        reason_details=tuple(f"{name}: {sentence}" for name, sentence in reasons),
    )


def member_routes(
    route_servers: Sequence[RouteServer],
    asn: int,
    *,
    filtered: bool = False,
    timeout: float = 30.0,
    sockets: Mapping[str, str] | None = None,
) -> list[RouteRow]:
    """A member's accepted (or filtered) routes on each given route server, sorted by prefix.

    ``sockets`` replaces stored control-socket paths by route-server name (the lab).
    A BIRD that cannot be reached, or that refuses a command, is ``SourceUnavailable``:
    the answer would be incomplete, and the caller may try again.
    """
    rows: list[RouteRow] = []
    sessions = 0
    for rs in route_servers:
        socket = (sockets or {}).get(rs.name, rs.control_socket)
        try:
            with BirdClient(socket, timeout=timeout) as bird:
                protocols = member_protocols(bird.protocols(), asn)
                sessions += len(protocols)
                for protocol in protocols:
                    scope = f"{'filtered ' if filtered else ''}protocol {protocol.name}"
                    rows.extend(route_row(route, rs, filtered) for route in bird.routes(scope))
        except BirdCommandError as exc:
            raise SourceUnavailable(f"route server {rs.name}: {exc}") from None
    if not sessions:
        names = ", ".join(rs.name for rs in route_servers)
        raise NotFound(f"asn: AS{asn} has no session on route server(s) {names}")
    rows.sort(key=lambda row: (row.prefix, row.route_server))
    return rows


def reason_counts(bird: BirdClient, protocols: Iterable[str], rs_asn: int) -> Counter[int]:
    """Filtered routes per reject code over the given protocols."""
    counts: Counter[int] = Counter()
    for name in protocols:
        for route in bird.routes(f"filtered protocol {name}"):
            counts.update(reject_codes(route, rs_asn))
    return counts
