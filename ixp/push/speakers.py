"""What each member offers a route server now, and the small BIRD that offers it again.

The impact preview replays, route for route, what every member sends the live
route server: the routes BIRD accepted (``show route all``) and those it
filtered and kept (``show route filtered all``: ``import keep filtered``), read
in two walks of the table rather than one per session.

A member is played by a BIRD of its own (:func:`speaker_config`): a static
route per offered route carrying its AS path (less the member's own ASN, which
BGP puts in front), its communities and, if it was not the member's own, its
next hop; and a BGP session per route-server address from the member's own
address. One BIRD per member because BIRD 2.0.12 runs at most one session per
neighbor address at a time; BIRD rather than ExaBGP because it starts and sends
routes many times faster.

Two kinds of route cannot be replayed faithfully, and are counted instead: one
whose path does not start with the member's ASN (BGP prepends it; such a route
is already filtered as ``first-as``) and one whose path BIRD printed cut short.
Large communities the route server adds itself on import (reject reasons, RPKI
tags) are left out: the scratch BIRD adds its own.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ixp.bird import BirdClient, BirdRoute, ProtocolStatus
from ixp.monitor.routes import reject_codes
from ixp.rs.codes import REJECT_NAMESPACE, RPKI_NAMESPACE
from ixp.rs.types import COLLECTOR_PROTOCOL_PREFIX

BLACKHOLE = "65535:666"


@dataclass(frozen=True, slots=True)
class OfferedRoute:
    """One route as the live route server holds it, with its verdict there."""

    prefix: str
    as_path: tuple[int, ...]
    as_path_truncated: bool
    next_hop: str | None
    communities: tuple[str, ...]
    large_communities: tuple[str, ...]
    accepted: bool
    codes: tuple[int, ...]


@dataclass(frozen=True)
class OfferedSession:
    """One member session of the live route server and every route it holds from it."""

    asn: int
    protocol: str
    neighbor: str
    """The member's address (the session's neighbor)."""
    family: int
    established: bool
    routes: tuple[OfferedRoute, ...]


def _offered(route: BirdRoute, rs_asn: int, accepted: bool) -> OfferedRoute:
    return OfferedRoute(
        prefix=route.prefix,
        as_path=route.as_path,
        as_path_truncated=route.as_path_truncated,
        next_hop=route.next_hop,
        communities=route.communities,
        large_communities=route.large_communities,
        accepted=accepted,
        codes=() if accepted else tuple(reject_codes(route, rs_asn)),
    )


def member_sessions(protocols: Iterable[ProtocolStatus]) -> list[ProtocolStatus]:
    """The members' BGP sessions among ``protocols`` (the collector's are not a member's)."""
    return [
        p
        for p in protocols
        if p.proto == "BGP"
        and p.neighbor_as is not None
        and p.neighbor_address is not None
        and not p.name.startswith(COLLECTOR_PROTOCOL_PREFIX)
    ]


def read_offered(socket: str, rs_asn: int, *, timeout: float) -> list[OfferedSession]:
    """Every member session of the route server at ``socket`` with the routes it holds from it."""
    with BirdClient(socket, timeout=timeout) as bird:
        sessions = member_sessions(bird.protocols())
        accepted = bird.routes("")
        filtered = bird.routes("filtered")
    held: dict[str, list[OfferedRoute]] = defaultdict(list)
    for routes, verdict in ((accepted, True), (filtered, False)):
        for route in routes:
            held[route.protocol].append(_offered(route, rs_asn, verdict))
    return [
        OfferedSession(
            asn=p.neighbor_as or 0,
            protocol=p.name,
            neighbor=p.neighbor_address or "",
            family=ipaddress.ip_address(p.neighbor_address or "").version,
            established=p.established,
            routes=tuple(sorted(held.get(p.name, ()), key=lambda r: r.prefix)),
        )
        for p in sessions
    ]


def why_not_replayed(route: OfferedRoute, asn: int) -> str | None:
    """Why ``route`` cannot be offered again as it was, or None when it can."""
    try:
        ipaddress.ip_network(route.prefix)
        if route.next_hop is not None:
            ipaddress.ip_address(route.next_hop)
    except ValueError:
        return "BIRD showed its prefix or next hop in a form this version cannot read"
    if route.as_path_truncated:
        return "its AS path was too long for BIRD to print whole"
    if not route.as_path or route.as_path[0] != asn:
        return f"its AS path does not start with AS{asn} (a BGP speaker always puts it first)"
    return None


@dataclass(frozen=True)
class SpeakerSession:
    """One session of a speaker: from the member's address to one route-server address."""

    local: str
    rs_address: str
    family: int
    routes: tuple[OfferedRoute, ...]


@dataclass(frozen=True)
class Speaker:
    """One BIRD playing (part of) a member: at most one session per route-server address."""

    name: str
    asn: int
    sessions: tuple[SpeakerSession, ...]

    @property
    def router_id(self) -> str:
        """The member's IPv4 address; for an IPv6-only one, an id made from its ASN."""
        for session in self.sessions:
            if session.family == 4:
                return session.local
        return str(ipaddress.IPv4Address(self.asn & 0xFFFFFFFF or 1))

    @property
    def addresses(self) -> tuple[str, ...]:
        """The member addresses it speaks from."""
        return tuple(s.local for s in self.sessions)


def plan(
    sessions: Sequence[OfferedSession], rs_addresses: Mapping[int, str]
) -> tuple[list[Speaker], dict[tuple[str, str], str]]:
    """The speakers that offer ``sessions`` again to the route server at ``rs_addresses``
    (by family), and the routes left out as ``(neighbor, prefix) -> why``.

    A member with two sessions in one family (two ports) gets a second speaker.
    """
    slots: dict[int, list[list[SpeakerSession]]] = defaultdict(list)
    skipped: dict[tuple[str, str], str] = {}
    for session in sorted(sessions, key=lambda s: (s.asn, s.family, s.neighbor)):
        rs_address = rs_addresses.get(session.family)
        if rs_address is None:
            continue
        routes = []
        for route in session.routes:
            reason = why_not_replayed(route, session.asn)
            if reason is None:
                routes.append(route)
            else:
                skipped[(session.neighbor, route.prefix)] = reason
        entry = SpeakerSession(session.neighbor, rs_address, session.family, tuple(routes))
        member = slots[session.asn]
        free = next((s for s in member if all(x.rs_address != rs_address for x in s)), None)
        if free is None:
            free = []
            member.append(free)
        free.append(entry)
    speakers = [
        Speaker(f"m{asn}" + (f"n{index}" if index else ""), asn, tuple(group))
        for asn, groups in sorted(slots.items())
        for index, group in enumerate(groups)
    ]
    return speakers, skipped


def _is_own_namespace(community: str, rs_asn: int) -> bool:
    first, second, _ = community.split(":")
    return first == str(rs_asn) and second in (str(REJECT_NAMESPACE), str(RPKI_NAMESPACE))


def _actions(route: OfferedRoute, session: SpeakerSession, rs_asn: int) -> list[str]:
    """The static route's attribute statements that make BGP send ``route`` as it came."""
    actions = [f"bgp_path.prepend({asn});" for asn in reversed(route.as_path[1:])]
    actions += [f"bgp_community.add(({c.replace(':', ',')}));" for c in route.communities]
    actions += [
        f"bgp_large_community.add(({c.replace(':', ',')}));"
        for c in route.large_communities
        if not _is_own_namespace(c, rs_asn)
    ]
    # An accepted blackhole route carries the exchange's blackhole next hop, set by the
    # route server; the member sent its own.
    own_next_hop = route.next_hop is None or BLACKHOLE in route.communities
    if not own_next_hop and route.next_hop != session.local:
        actions.append(f"bgp_next_hop = {route.next_hop};")
    return actions


def speaker_config(speaker: Speaker, rs_asn: int) -> str:
    """The BIRD configuration of one speaker: its routes as static routes, its sessions.

    The sessions start after a second and come back after an error within seconds
    (the defaults wait minutes), never take routes in, and keep the next hop a
    route names (the others go out with the member's own address).
    """
    # Not `remote`: the speakers share one namespace holding every member's address,
    # so each route the route server sends with another member's next hop is
    # "invalid, next hop is local" to them and withdrawn, one log line per route.
    # Where syslog is missing BIRD writes those to the console, 0.3 s a line: the
    # speakers then stopped reading and the route server's sessions to them stalled.
    lines = [
        f"router id {speaker.router_id};",
        "log syslog { warning, error, fatal, bug };",
        "protocol device {}",
    ]
    lines += [f"ipv{s.family} table t{i};" for i, s in enumerate(speaker.sessions)]
    for index, session in enumerate(speaker.sessions):
        lines.append(f"protocol static r{index} {{")
        lines.append(f"\tipv{session.family} {{ table t{index}; }};")
        for route in session.routes:
            actions = _actions(route, session, rs_asn)
            block = f" {{ {' '.join(actions)} }}" if actions else ""
            lines.append(f"\troute {route.prefix} blackhole{block};")
        lines.append("}")
        lines += [
            f"protocol bgp s{index} {{",
            f"\tlocal {session.local} as {speaker.asn};",
            f"\tneighbor {session.rs_address} as {rs_asn};",
            "\tstrict bind on;",
            "\tconnect delay time 1;",
            "\tconnect retry time 2;",
            "\terror wait time 1, 4;",
            f"\tipv{session.family} {{ table t{index}; import none; export all; "
            "next hop keep on; };",
            "}",
        ]
    return "\n".join(lines) + "\n"
