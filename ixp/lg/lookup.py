"""A prefix or address looked up on every route server, for people: the looking-glass page.

For each route server: the accepted routes of the most specific network that
covers the prefix or address (BIRD's ``show route for``), and the routes it
filtered for it, each with the reasons in words and what the member can do
(``ixp.monitor.routes``, the same advice members read on their own pages).
Filtered routes are the exact network for a prefix, and every network covering
an address (BIRD's lookup skips networks whose routes are all filtered, so an
address is matched with a filter over the table).

BIRD is read through a ``RouteReader``: the web app's keeps each answer for
``web_lg_cache_seconds`` (``ixp.lg.CachedReader``), so a page reloaded by many
people reaches BIRD once. A route server that cannot be reached is said so on its
own; the others still answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.bird import BirdCommandError, BirdRoute
from ixp.errors import NotFound, SourceUnavailable
from ixp.lg.service import lookup_prefix
from ixp.models import Member, RouteServer, SessionState
from ixp.monitor.routes import (
    Advice,
    FilteredRouteRow,
    RouteReader,
    RouteRow,
    route_advice,
    route_row,
)
from ixp.rs.types import Limits

# BIRD's "Network not found": no route covers what was asked.
_NOTHING_FOUND = 8001


@dataclass(frozen=True)
class MemberFacts:
    """What the page says about the member a route came from."""

    name: str
    as_set_v4: str | None
    as_set_v6: str | None


@dataclass(frozen=True)
class FoundRoute:
    """A route as the page shows it: the row, the member it came from (when known) and,
    for a filtered route, the advice for each of its reasons."""

    row: RouteRow
    member_asn: int | None
    member: str | None
    advice: tuple[Advice, ...] = ()


@dataclass(frozen=True)
class RsAnswer:
    """One route server's answer; ``trouble`` says why it has none."""

    rs_name: str
    accepted: tuple[FoundRoute, ...]
    filtered: tuple[FoundRoute, ...]
    trouble: str | None = None


@dataclass(frozen=True)
class Lookup:
    """A lookup across the route servers: what was asked, normalised, and each answer."""

    query: str
    answers: tuple[RsAnswer, ...]


@dataclass(frozen=True)
class Directory:
    """Who is behind each session: member facts by ASN, and session protocols by route
    server, as the monitor last stored them."""

    members: Mapping[int, MemberFacts]
    protocols: Mapping[tuple[str, str], int]


def directory(session: Session) -> Directory:
    """The members and their session protocols, in two queries."""
    members = {
        asn: MemberFacts(name, v4, v6)
        for asn, name, v4, v6 in session.execute(
            select(Member.asn, Member.display_name, Member.as_set_v4, Member.as_set_v6)
        )
    }
    protocols = {
        (rs_name, protocol): asn
        for rs_name, protocol, asn in session.execute(
            select(RouteServer.name, SessionState.protocol, SessionState.asn).join(
                RouteServer, SessionState.route_server_id == RouteServer.id
            )
        )
        if asn is not None
    }
    return Directory(members, protocols)


def _ask(reader: RouteReader, socket: str, scope: str) -> list[BirdRoute]:
    try:
        return reader.routes(socket, scope)
    except BirdCommandError as refused:
        if refused.code == _NOTHING_FOUND:
            return []
        raise SourceUnavailable(f"bird on {socket}: {refused.message}") from None


def _found(
    route: BirdRoute,
    rs: RouteServer,
    known: Directory,
    limits: Limits,
    *,
    filtered: bool,
) -> FoundRoute:
    row = route_row(route, rs, filtered)
    asn = known.protocols.get((rs.name, route.protocol))
    if asn is None and route.as_path:
        asn = route.as_path[0]
    facts = known.members.get(asn) if asn is not None else None
    advice: tuple[Advice, ...] = ()
    if isinstance(row, FilteredRouteRow) and asn is not None:
        as_set = None
        if facts is not None:
            as_set = facts.as_set_v6 if ":" in row.prefix else facts.as_set_v4
        advice = route_advice(row, asn=asn, as_set=as_set, limits=limits)
    return FoundRoute(row, asn, facts.name if facts else None, advice)


def lookup(
    route_servers: Sequence[RouteServer],
    value: str,
    *,
    known: Directory,
    limits: Limits,
    sockets: Mapping[str, str],
    timeout: float,
    reader: RouteReader,
) -> Lookup:
    """``value`` (a prefix or address; ``ValidationError`` of ``prefix`` if neither) on
    every route server; waits for BIRD (run it where waiting is fine: ``api.threads``)."""
    query = lookup_prefix(value.strip())
    filtered = f"{query} filtered" if "/" in query else f"filtered where {query} ~ net"
    answers = []
    for rs in route_servers:
        socket = sockets.get(rs.name, rs.control_socket)
        try:
            accepted = _ask(reader, socket, f"for {query}")
            refused = _ask(reader, socket, filtered)
        except (SourceUnavailable, NotFound) as exc:
            answers.append(RsAnswer(rs.name, (), (), str(exc)))
            continue
        answers.append(
            RsAnswer(
                rs.name,
                tuple(_found(r, rs, known, limits, filtered=False) for r in accepted),
                tuple(_found(r, rs, known, limits, filtered=True) for r in refused),
            )
        )
    return Lookup(query, tuple(answers))
