"""What the monitor sees, over HTTP: sessions, routes with reject reasons, events, alerts, reach.

Every listing is a page with its total. A member's user sees only what is about
its own network (another member's ASN is answered exactly like one that is no
member); exchange-wide alerts (a route server unreachable) are for operators.
The overall domestic reach is public, as the portal shows it to everyone; who
contributes how much needs a sign-in. Routes are read from BIRD's control
socket at the time of asking; a BIRD that does not answer is a 503 problem.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from api.deps import Db, Operator, Principal, Routes, Settings, User, own_asn, scope_asn
from api.pagination import DEFAULT_LIMIT, Limit, Offset, Page, page
from api.schemas.monitor import ReachOverview
from api.schemas.problem import errors
from api.threads import waiting_on_bird
from ixp.exchange import get_exchange, get_route_server
from ixp.members import check_member
from ixp.models import RouteServer
from ixp.monitor import alerts, reach, routes, sessions
from ixp.monitor.alerts import AlertRow, AlertStatus
from ixp.monitor.filtered import member_filtered
from ixp.monitor.reach import MemberReach, ReachFigures
from ixp.monitor.routes import FilteredRouteRow, RouteReader, RouteRow
from ixp.monitor.sessions import EventRow, SessionRow

router = APIRouter(prefix="/api/v1", tags=["monitor"])

# The 32-bit AS numbers, less 0 and 4294967295 (reserved, RFC 7300): never a member's.
_FIRST_ASN, _LAST_ASN = 1, 2**32 - 2
MemberAsn = Annotated[int, Path(ge=_FIRST_ASN, le=_LAST_ASN, description="The member's AS number.")]
AsnFilter = Annotated[
    int | None,
    Query(
        ge=_FIRST_ASN,
        le=_LAST_ASN,
        description="Only this member's (a member's user: its own ASN only).",
    ),
]
RsFilter = Annotated[
    str | None, Query(max_length=64, description="Only this route server, by name.")
]
StateFilter = Annotated[
    str | None,
    Query(max_length=64, description="Only sessions in this BGP state (Established, Active...)."),
]
History = Annotated[int, Query(ge=1, le=1000, description="How many past samples, newest first.")]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The alert's id.")]

_SIGNED_IN = errors(401, 404, 422, 503)


def _member(db: Session, user: Principal, asn: int) -> int:
    """``asn`` if it is a member the caller may see; NotFound otherwise, the same either way."""
    return check_member(db, own_asn(user, asn))


def _route_server(db: Session, name: str | None) -> RouteServer | None:
    return get_route_server(db, name) if name is not None else None


@router.get("/sessions", summary="Member sessions", responses=_SIGNED_IN)
def list_sessions(
    user: User,
    db: Db,
    rs: RsFilter = None,
    asn: AsnFilter = None,
    state: StateFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[SessionRow]:
    """Every member session as the monitor last saw it on each route server."""
    rows = sessions.session_rows(
        db, route_server=_route_server(db, rs), asn=scope_asn(user, asn), state=state
    )
    return page(rows, limit, offset)


@router.get("/members/{asn}/sessions", summary="A member's sessions", responses=_SIGNED_IN)
def member_sessions(
    asn: MemberAsn,
    user: User,
    db: Db,
    rs: RsFilter = None,
    state: StateFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[SessionRow]:
    """One member's sessions on every route server (or one)."""
    number = _member(db, user, asn)
    rows = sessions.session_rows(db, route_server=_route_server(db, rs), asn=number, state=state)
    return page(rows, limit, offset)


@router.get(
    "/members/{asn}/routes",
    summary="A member's accepted or filtered routes",
    responses=_SIGNED_IN,
)
async def member_routes(
    request: Request,
    asn: MemberAsn,
    user: User,
    db: Db,
    settings: Settings,
    reader: Routes,
    filtered: Annotated[
        bool, Query(description="Filtered routes, each with why it was filtered.")
    ] = False,
    rs: RsFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[FilteredRouteRow | RouteRow]:
    """The routes the member announces that the route servers accepted, or (``filtered``)
    those they filtered, with the reject reasons decoded into words and since when. Accepted
    routes are read from BIRD (each command kept for ``web_lg_cache_seconds``) on the
    threads kept for waits on BIRD (``api.threads``); filtered routes as the monitor's last
    round read them (BIRD finds them only by walking its whole table)."""
    rows = await waiting_on_bird(request, _routes_of, db, user, asn, rs, filtered, settings, reader)
    return page(rows, limit, offset)


def _routes_of(
    db: Session,
    user: Principal,
    asn: int,
    rs: str | None,
    filtered: bool,
    settings: Settings,
    reader: RouteReader,
) -> list[FilteredRouteRow | RouteRow]:
    number = _member(db, user, asn)
    exchange = get_exchange(db)
    targets = [get_route_server(db, rs, exchange)] if rs is not None else exchange.route_servers
    if filtered:
        return list(member_filtered(db, targets, number).rows)
    return routes.member_routes(targets, number, reader=reader, sockets=settings.bird_sockets)


@router.get("/events", summary="Session events", responses=_SIGNED_IN)
def list_events(
    user: User,
    db: Db,
    rs: RsFilter = None,
    asn: AsnFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[EventRow]:
    """Sessions going up or down (with BIRD's reason) and jumps in accepted prefixes,
    newest first."""
    route_server, number = _route_server(db, rs), scope_asn(user, asn)
    items = sessions.event_rows(db, limit, offset, route_server=route_server, asn=number)
    total = sessions.event_count(db, route_server=route_server, asn=number)
    return Page[EventRow](items=items, total=total, limit=limit, offset=offset)


@router.get("/alerts", summary="Alerts", responses=_SIGNED_IN)
def list_alerts(
    user: User,
    db: Db,
    status: Annotated[
        AlertStatus, Query(description="Open, open and not acknowledged, closed or all alerts.")
    ] = (AlertStatus.open),
    asn: AsnFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AlertRow]:
    """Alerts newest first. A member's user sees those about its own network only;
    exchange-wide ones (about no member) are for operators."""
    number = scope_asn(user, asn)
    items = alerts.alert_list(db, status, asn=number, limit=limit, offset=offset)
    total = alerts.alert_count(db, status, asn=number)
    return Page[AlertRow](items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Acknowledge an alert",
    responses=errors(401, 403, 404, 409, 422),
)
def acknowledge_alert(alert_id: AlertId, operator: Operator, db: Db) -> AlertRow:
    """Mark an open alert as being dealt with (operators); it stays open until its
    condition clears. A closed alert, or one acknowledged already, is a 409 saying so."""
    return alerts.acknowledge(db, alert_id, actor=operator.username)


@router.get("/reach", summary="Domestic reachability", responses=errors(404, 422, 503))
def reach_overview(db: Db, history: History = 10) -> ReachOverview:
    """How much of the country's address space and ASNs the exchange reaches, now and in
    recent samples. Public."""
    return ReachOverview.of(reach.report(db, get_exchange(db), history=history, top=0))


@router.get("/reach/members", summary="Reachability per member", responses=_SIGNED_IN)
def reach_members(
    user: User,
    db: Db,
    asn: AsnFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[ReachFigures]:
    """What each member makes reachable in the newest sample, largest contribution first."""
    number = scope_asn(user, asn)
    members = reach.report(db, get_exchange(db), history=0).members
    return page([m for m in members if number is None or m.asn == number], limit, offset)


@router.get("/members/{asn}/reach", summary="A member's reachability", responses=_SIGNED_IN)
def member_reach(asn: MemberAsn, user: User, db: Db, history: History = 10) -> MemberReach:
    """What the member makes reachable now and in its recent samples."""
    number = _member(db, user, asn)
    return reach.member_report(db, get_exchange(db), number, history=history)
