"""The routes the route servers filtered, as the monitor's last round read them.

BIRD 2.0 finds one session's filtered routes only by walking its whole table: on
a route server of a million routes, seconds of its CPU each time. Asked by every
page view (or once per web worker), a route server would spend its time answering
NOCs. So the monitor reads every member's filtered routes in one walk a round and
keeps them here; the portal, the API and the CLI read this table, and say when
the monitor read it. Each round writes only what changed since the last one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ixp.bird import BirdRoute
from ixp.errors import NotFound
from ixp.models import FilteredRoute, RouteServer, SessionState
from ixp.monitor.routes import FilteredRouteRow, RouteRow, path_text, reject_codes, with_reasons

# Rows deleted per statement: SQLite allows at most 32,766 bound parameters.
_CHUNK = 5_000


class _Route(NamedTuple):
    """What is kept of one filtered route besides its key (protocol, prefix)."""

    asn: int
    next_hop: str | None
    as_path: str
    communities: str
    large_communities: str


def record(
    session: Session,
    rs: RouteServer,
    routes: Iterable[BirdRoute],
    owners: Mapping[str, int],
    now: dt.datetime,
) -> dict[int, Counter[int]]:
    """Keep ``routes`` (a walk of ``show route filtered all``) as ``rs``'s filtered routes,
    given the member ASN of each session (protocol name) that holds some; returns the
    filtered routes per reject code of each member, for the alerts. Routes of a session
    that is not a member's are not kept; routes gone since the last round are removed."""
    counts: dict[int, Counter[int]] = {asn: Counter() for asn in owners.values()}
    wanted: dict[tuple[str, str], _Route] = {}
    for route in routes:
        asn = owners.get(route.protocol)
        if asn is None:
            continue
        counts[asn].update(reject_codes(route, rs.asn))
        wanted[(route.protocol, route.prefix)] = _Route(
            asn,
            route.next_hop,
            path_text(route),
            " ".join(route.communities),
            " ".join(route.large_communities),
        )
    kept = session.execute(
        select(
            FilteredRoute.id,
            FilteredRoute.protocol,
            FilteredRoute.prefix,
            *(getattr(FilteredRoute, name) for name in _Route._fields),
        ).where(FilteredRoute.route_server_id == rs.id)
    ).all()
    gone: list[int] = []
    changed: list[dict[str, object]] = []
    for row_id, protocol, prefix, *values in kept:
        fresh = wanted.pop((protocol, prefix), None)
        if fresh is None:
            gone.append(row_id)
        elif fresh != _Route(*values):
            changed.append({"id": row_id, **fresh._asdict()})
    for start in range(0, len(gone), _CHUNK):
        chunk = gone[start : start + _CHUNK]
        session.execute(delete(FilteredRoute).where(FilteredRoute.id.in_(chunk)))
    if changed:
        session.execute(update(FilteredRoute), changed)
    if wanted:
        session.execute(
            insert(FilteredRoute),
            [
                {"route_server_id": rs.id, "protocol": protocol, "prefix": prefix, "since": now}
                | route._asdict()
                for (protocol, prefix), route in wanted.items()
            ],
        )
    return counts


@dataclass(frozen=True)
class KeptRoutes:
    """A member's filtered routes as kept, and when the monitor last read each route
    server it has sessions on (``read_at``, oldest first: the answer is as old as that)."""

    rows: list[FilteredRouteRow]
    read_at: dict[str, dt.datetime]


def member_filtered(session: Session, route_servers: Sequence[RouteServer], asn: int) -> KeptRoutes:
    """Member ``asn``'s filtered routes on the given route servers, sorted by prefix, as the
    monitor last read them. NotFound when the monitor has seen no session of the member
    on any of them (as BIRD asked directly would say)."""
    by_id = {rs.id: rs for rs in route_servers}
    read = session.execute(
        select(SessionState.route_server_id, func.min(SessionState.checked_at))
        .where(SessionState.asn == asn, SessionState.route_server_id.in_(by_id))
        .group_by(SessionState.route_server_id)
    ).all()
    if not read:
        names = ", ".join(rs.name for rs in route_servers)
        raise NotFound(f"asn: AS{asn} has no session on route server(s) {names}")
    kept = session.scalars(
        select(FilteredRoute).where(
            FilteredRoute.asn == asn, FilteredRoute.route_server_id.in_(by_id)
        )
    )
    rows = [_row(route, by_id[route.route_server_id]) for route in kept]
    rows.sort(key=lambda row: (row.prefix, row.route_server))
    read_at = sorted(((by_id[rs_id].name, at) for rs_id, at in read), key=lambda item: item[1])
    return KeptRoutes(rows, dict(read_at))


def _row(route: FilteredRoute, rs: RouteServer) -> FilteredRouteRow:
    row = RouteRow(
        route_server=rs.name,
        prefix=route.prefix,
        protocol=route.protocol,
        next_hop=route.next_hop,
        as_path=route.as_path,
        communities=route.communities,
        large_communities=route.large_communities,
        rpki=None,
    )
    return with_reasons(row, rs.asn, since=route.since)
