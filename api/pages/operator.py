"""The operator's pages: the dashboard, the members table, and alerts with their events.

Operators only (``Operator``): a member's user gets the same 403 page as from the
API, the public the sign-in page. Filters are plain GET forms, so a filtered and
paged table is a link anyone can bookmark and works without JavaScript; a bad
filter value is shown next to its field and the table stays empty (422).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Db, Operator, RosterPages
from api.pages.member import field_errors
from api.pages.public import reach_chart
from api.pages.render import Look, page
from ixp import dashboard, roster
from ixp.errors import ValidationError
from ixp.exchange import get_exchange
from ixp.monitor import alerts, sessions
from ixp.monitor.alerts import AlertStatus
from ixp.roster import Roster, RosterFilter

router = APIRouter(include_in_schema=False)

MEMBERS_PER_PAGE = 50
ALERTS_PER_PAGE = 50
EVENTS_SHOWN = 50

Text = Annotated[str | None, Query(max_length=200)]
# The session-state filter's choices as the form words them.
_STATE_WORDS = {
    "up": "all sessions up",
    "down": "a session down",
    "unseen": "not seen by the monitor",
}
PageNumber = Annotated[int, Query(alias="page", ge=1, le=2**20)]


@router.get("/operator", response_class=HTMLResponse)
def operator_home(request: Request, operator: Operator, viewer: Look, db: Db) -> HTMLResponse:
    """Sessions per route server, open alerts, the latest build and push, and domestic reach
    with its trend."""
    board = dashboard.dashboard(db)
    return page(
        request,
        "operator/dashboard.html",
        viewer=viewer,
        exchange=board.exchange,
        board=board,
        chart=reach_chart(board.reach),
        section="operator",
    )


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


@router.get("/members", response_class=HTMLResponse)
def members_table(
    request: Request,
    operator: Operator,
    viewer: Look,
    db: Db,
    rosters: RosterPages,
    q: Text = None,
    status: Text = None,
    route_server: Text = None,
    state: Text = None,
    number: PageNumber = 1,
) -> HTMLResponse:
    """Every member with its sessions, prefixes, max-prefix usage, registry and RPKI state;
    searched, filtered and paged in the database."""
    exchange = get_exchange(db)
    given = RosterFilter(q or None, status or None, route_server or None, state or None)
    errors: dict[str, str] = {}
    try:
        table = roster.roster(
            db,
            given,
            limit=MEMBERS_PER_PAGE,
            offset=(number - 1) * MEMBERS_PER_PAGE,
            exchange=exchange,
            cache=rosters,
        )
    except ValidationError as exc:
        errors = field_errors(exc)
        names = tuple(sorted(rs.name for rs in exchange.route_servers))
        table = Roster((), 0, names)
    kept = {k: v for k, v in (("q", q), ("status", status), ("route_server", route_server)) if v}
    if state:
        kept["state"] = state
    return page(
        request,
        "operator/members.html",
        viewer=viewer,
        exchange=exchange.name,
        status=422 if errors else 200,
        table=table,
        given=given,
        errors=errors,
        statuses=[("", "any"), *((s, s) for s in roster.status_choices())],
        states=[("", "any"), *((s, _STATE_WORDS[s]) for s in roster.session_filter_choices())],
        route_servers=[("", "any"), *((name, name) for name in table.route_servers)],
        page_number=number,
        pages=_pages(table.total, MEMBERS_PER_PAGE),
        query=urlencode(kept),
        section="members",
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    operator: Operator,
    viewer: Look,
    db: Db,
    status: Annotated[AlertStatus, Query()] = AlertStatus.open,
    number: PageNumber = 1,
) -> HTMLResponse:
    """Alerts (open by default) with a button to acknowledge each, and the newest session
    events."""
    offset = (number - 1) * ALERTS_PER_PAGE
    listed = alerts.alert_list(db, status, limit=ALERTS_PER_PAGE, offset=offset)
    total = alerts.alert_count(db, status)
    return page(
        request,
        "operator/alerts.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        alerts=listed,
        total=total,
        status_shown=status.value,
        statuses=[s.value for s in AlertStatus],
        events=sessions.event_rows(db, EVENTS_SHOWN),
        page_number=number,
        pages=_pages(total, ALERTS_PER_PAGE),
        section="alerts",
    )


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], operator: Operator, db: Db
) -> Response:
    """Acknowledge an open alert as ``POST /api/v1/alerts/{id}/ack`` does, then back to the
    alerts (a closed or already acknowledged alert is a 409 page saying why)."""
    alerts.acknowledge(db, alert_id, actor=operator.username)
    return RedirectResponse(f"/alerts#alert-{alert_id}", status_code=303)
