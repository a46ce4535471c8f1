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

from ixp.bird import BirdClient, BirdRoute, ProtocolStatus
from ixp.errors import NotFound
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


def route_dict(route: BirdRoute, rs: RouteServer, filtered: bool) -> dict[str, object]:
    """A route for the CLI/API; filtered routes get their decoded reasons."""
    result: dict[str, object] = {
        "route_server": rs.name,
        "prefix": route.prefix,
        "protocol": route.protocol,
        "next_hop": route.next_hop,
        "as_path": path_text(route),
        "communities": " ".join(route.communities),
        "large_communities": " ".join(route.large_communities),
    }
    if filtered:
        codes = reject_codes(route, rs.asn)
        result["reject_codes"] = codes
        reasons = [reason_text(code) for code in codes]
        result["reasons"] = ", ".join(name for name, _ in reasons) or "no reject community"
        result["reason_details"] = [f"{name}: {sentence}" for name, sentence in reasons]
    return result


def member_routes(
    route_servers: Sequence[RouteServer],
    asn: int,
    *,
    filtered: bool = False,
    timeout: float = 30.0,
    sockets: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """A member's accepted (or filtered) routes on each given route server, sorted by prefix.

    ``sockets`` replaces stored control-socket paths by route-server name (the lab).
    """
    rows: list[dict[str, object]] = []
    sessions = 0
    for rs in route_servers:
        socket = (sockets or {}).get(rs.name, rs.control_socket)
        with BirdClient(socket, timeout=timeout) as bird:
            protocols = member_protocols(bird.protocols(), asn)
            sessions += len(protocols)
            for protocol in protocols:
                scope = f"{'filtered ' if filtered else ''}protocol {protocol.name}"
                rows.extend(route_dict(route, rs, filtered) for route in bird.routes(scope))
    if not sessions:
        names = ", ".join(rs.name for rs in route_servers)
        raise NotFound(f"asn: AS{asn} has no session on route server(s) {names}")
    rows.sort(key=lambda row: (str(row["prefix"]), str(row["route_server"])))
    return rows


def reason_counts(bird: BirdClient, protocols: Iterable[str], rs_asn: int) -> Counter[int]:
    """Filtered routes per reject code over the given protocols."""
    counts: Counter[int] = Counter()
    for name in protocols:
        for route in bird.routes(f"filtered protocol {name}"):
            counts.update(reject_codes(route, rs_asn))
    return counts
