"""A member's own pages: its sessions, routes, router configuration, contacts and MACs.

A member's users see only their own network; operators open any member's. Every
handler starts from ``own_asn``, as the API does, so another member's pages are
the same 404 as a member that does not exist. Accepted routes are read live
from the route servers' BIRD; when one cannot be reached the page says so (503)
rather than showing part of the routes as if they were all. Filtered routes are
read as the monitor last read them, and the page says when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, MemberPages, Principal, Routes, Settings, User, own_asn
from api.pages.render import Look, Viewer, page
from api.routers.members import Asn
from api.schemas.members import MEMBER_EDITABLE
from api.threads import waiting_on_bird
from ixp import macreview, members
from ixp.errors import NotFound, SourceUnavailable, ValidationError
from ixp.exchange import get_exchange
from ixp.macreview import MacProposalView
from ixp.members import MemberPages as MemberPagesCache
from ixp.members import MemberView
from ixp.models import Exchange
from ixp.monitor import routes, sessions
from ixp.monitor.filtered import KeptRoutes, member_filtered
from ixp.monitor.routes import Advice, FilteredRouteRow, RouteReader, RouteRow, route_advice
from ixp.monitor.sessions import SessionRow
from ixp.rs.context import limits_from
from ixp.rs.snippets import PLATFORMS, member_snippet

router = APIRouter(prefix="/members/{asn}", include_in_schema=False)

ROUTES_PER_PAGE = 100
NO_SESSION = "Your network has no BGP session on the route servers now."
PageNumber = Annotated[int, Query(alias="page", ge=1, le=2**20)]
R = TypeVar("R")
MAX_MACS = 64

# The contact fields a member's users may change (the API's rule), with label and input type.
CONTACTS = (
    ("noc_email", "NOC e-mail", "email"),
    ("noc_phone", "NOC phone", "tel"),
    ("peering_email", "Peering e-mail", "email"),
    ("url", "Website", "url"),
)
if {name for name, _, _ in CONTACTS} != MEMBER_EDITABLE:
    raise RuntimeError("the contacts form must offer exactly the fields members may change")


@dataclass(frozen=True)
class Shown:
    """The member a page is about, and its exchange."""

    member: MemberView
    exchange: Exchange


def shown_member(db: Session, user: Principal, asn: int, pages: MemberPagesCache) -> Shown:
    """Member ``asn`` if the caller may see it; NotFound otherwise, the same either way.
    Read through the worker's member pages: a NOC reloading its page between two changes
    to the members costs one query for the member instead of six."""
    number = own_asn(user, asn)
    exchange = get_exchange(db)
    return Shown(members.show_member(db, number, exchange, cache=pages), exchange)


def member_page(
    request: Request,
    template: str,
    viewer: Viewer,
    shown: Shown,
    tab: str,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    return page(
        request,
        template,
        viewer=viewer,
        exchange=shown.exchange.name,
        status=status,
        member=shown.member,
        tab=tab,
        **context,
    )


@dataclass(frozen=True)
class SessionLine:
    """A session as the member's page shows it: the monitor's row and its prefix limit
    (BIRD's, else the member's configured max-prefix for the family)."""

    row: SessionRow
    limit: int

    @property
    def usage(self) -> int:
        """Accepted prefixes in percent of the limit."""
        return round(100 * self.row.imported / self.limit) if self.limit else 0


def _lines(member: MemberView, rows: list[SessionRow]) -> list[SessionLine]:
    configured = {"ipv4": member.max_prefix_v4, "ipv6": member.max_prefix_v6}
    return [SessionLine(row, row.import_limit or configured.get(row.family, 0)) for row in rows]


@router.get("", response_class=HTMLResponse)
def network(
    request: Request, asn: Asn, user: User, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """The member's sessions on every route server, as the monitor last saw them."""
    shown = shown_member(db, user, asn, pages)
    rows = sessions.session_rows(db, asn=shown.member.asn)
    seen = {row.route_server for row in rows}
    unseen = [rs.name for rs in shown.member.route_servers if rs.name not in seen]
    return member_page(
        request,
        "member/network.html",
        viewer,
        shown,
        "network",
        lines=_lines(shown.member, rows),
        unseen=unseen,
    )


@dataclass(frozen=True)
class Filtered:
    """A filtered route with the advice for each of its reject codes."""

    row: FilteredRouteRow
    advice: tuple[Advice, ...]


@dataclass(frozen=True)
class LiveRoutes:
    """A member's routes as read from every route server's BIRD just now; ``trouble`` says
    why the list is empty when it could not be read, ``status`` is the page's."""

    shown: Shown
    rows: list[RouteRow]
    trouble: str | None = None
    status: int = 200


def _live_routes(
    db: Session,
    user: Principal,
    asn: int,
    pages: MemberPagesCache,
    settings: Settings,
    reader: RouteReader,
) -> LiveRoutes:
    """Member ``asn``'s accepted routes, if the caller may see it. Runs on the threads kept
    for waits on BIRD (``api.threads``), as the API's routes do. Where a route server's
    control socket is, is for operators: members read that a route server cannot be
    reached."""
    shown = shown_member(db, user, asn, pages)
    try:
        rows = routes.member_routes(
            shown.exchange.route_servers,
            shown.member.asn,
            reader=reader,
            sockets=settings.bird_sockets,
        )
    except SourceUnavailable as exc:
        why = f" ({exc.reason})" if user.is_operator else ""
        trouble = f"A route server cannot be reached right now{why}. Try again in a minute."
        return LiveRoutes(shown, [], trouble, 503)
    except NotFound:
        return LiveRoutes(shown, [], NO_SESSION)
    return LiveRoutes(shown, rows)


async def _accepted(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    db: Db,
    settings: Settings,
    reader: Routes,
) -> LiveRoutes:
    """The member's accepted routes, read on the threads kept for BIRD: the page is
    rendered only once they are read."""
    return await waiting_on_bird(request, _live_routes, db, user, asn, pages, settings, reader)


AcceptedLive = Annotated[LiveRoutes, Depends(_accepted)]


@router.get("/routes/filtered", response_class=HTMLResponse)
def filtered_routes(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    settings: Settings,
    number: PageNumber = 1,
) -> HTMLResponse:
    """The routes the route servers filtered, each with why and what to do about it, as the
    monitor last read them (BIRD finds them only by walking its whole table), a page at a
    time."""
    shown = shown_member(db, user, asn, pages)
    member = shown.member
    try:
        kept = member_filtered(db, shown.exchange.route_servers, member.asn)
    except NotFound:
        kept = KeptRoutes([], {})
    shown_rows, count = _page_of(kept.rows, number)
    limits = limits_from(settings)
    filtered = [
        Filtered(
            row,
            route_advice(
                row,
                asn=member.asn,
                as_set=member.as_set_v6 if ":" in row.prefix else member.as_set_v4,
                limits=limits,
            ),
        )
        for row in shown_rows
    ]
    return member_page(
        request,
        "member/filtered.html",
        viewer,
        shown,
        "filtered",
        routes=filtered,
        total=len(kept.rows),
        page_number=number,
        pages=count,
        read_at=kept.read_at,
        trouble=None if kept.read_at else NO_SESSION,
    )


def _page_of(rows: Sequence[R], number: int) -> tuple[Sequence[R], int]:
    """Page ``number`` of ``rows`` (``ROUTES_PER_PAGE`` each) and how many pages there are:
    a transit member's routes would make a page of megabytes."""
    start = (number - 1) * ROUTES_PER_PAGE
    return rows[start : start + ROUTES_PER_PAGE], max(1, -(-len(rows) // ROUTES_PER_PAGE))


@router.get("/routes/accepted", response_class=HTMLResponse)
def accepted_routes(
    request: Request,
    viewer: Look,
    live: AcceptedLive,
    number: PageNumber = 1,
) -> HTMLResponse:
    """The member's routes the route servers accepted, a page at a time."""
    shown_rows, count = _page_of(live.rows, number)
    return member_page(
        request,
        "member/accepted.html",
        viewer,
        live.shown,
        "accepted",
        status=live.status,
        routes=shown_rows,
        total=len(live.rows),
        page_number=number,
        pages=count,
        trouble=live.trouble,
    )


@router.get("/router", response_class=HTMLResponse)
def router_config(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    platform: Annotated[str, Query(max_length=32)] = PLATFORMS[0],
) -> HTMLResponse:
    """The member's side of its sessions with the route servers, for its router's platform."""
    shown = shown_member(db, user, asn, pages)
    error = None
    text = ""
    try:
        text = member_snippet(db, shown.member.asn, platform, shown.exchange)
    except ValidationError as exc:
        error = exc.reason
    return member_page(
        request,
        "member/router.html",
        viewer,
        shown,
        "router",
        status=422 if error else 200,
        platforms=PLATFORMS,
        platform=platform,
        snippet=text,
        error=error,
    )


def _contacts_form(
    request: Request,
    viewer: Viewer,
    shown: Shown,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    saved: bool = False,
) -> HTMLResponse:
    return member_page(
        request,
        "member/contacts.html",
        viewer,
        shown,
        "contacts",
        status=422 if errors else 200,
        fields=CONTACTS,
        values=values,
        errors=errors,
        saved=saved,
    )


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Each bad field's reason (several for one field joined), keyed by field."""
    found: dict[str, list[str]] = {}
    for error in exc.errors:
        found.setdefault(error.field or "", []).append(error.reason)
    return {field: "; ".join(reasons) for field, reasons in found.items()}


@router.get("/contacts", response_class=HTMLResponse)
def contacts(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    saved: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The member's contacts, in a form its users may change."""
    shown = shown_member(db, user, asn, pages)
    values = {name: getattr(shown.member, name) or "" for name, _, _ in CONTACTS}
    return _contacts_form(request, viewer, shown, values=values, errors={}, saved=saved)


@router.post("/contacts", response_class=HTMLResponse)
def change_contacts(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    noc_email: Annotated[str, Form(max_length=1000)] = "",
    noc_phone: Annotated[str, Form(max_length=1000)] = "",
    peering_email: Annotated[str, Form(max_length=1000)] = "",
    url: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Change the contacts with the rules of ``PATCH /api/v1/members/{asn}``: all or none,
    every bad field named. An empty field clears that contact."""
    shown = shown_member(db, user, asn, pages)
    values = {"noc_email": noc_email, "noc_phone": noc_phone}
    values |= {"peering_email": peering_email, "url": url}
    changes = {name: value.strip() or None for name, value in values.items()}
    try:
        members.update_member(
            db, shown.member.asn, changes, exchange=shown.exchange, actor=user.username
        )
    except ValidationError as exc:
        return _contacts_form(request, viewer, shown, values=values, errors=field_errors(exc))
    return RedirectResponse(f"/members/{shown.member.asn}/contacts?saved=true", status_code=303)


def _open_proposal(db: Session, asn: int) -> MacProposalView | None:
    try:
        return macreview.open_proposal(db, asn)
    except NotFound:
        return None


@router.get("/macs", response_class=HTMLResponse)
def macs(
    request: Request, asn: Asn, user: User, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """The member's router MACs on the peering LAN, and its change waiting for review."""
    shown = shown_member(db, user, asn, pages)
    proposal = _open_proposal(db, shown.member.asn)
    return member_page(
        request,
        "member/macs.html",
        viewer,
        shown,
        "macs",
        proposal=proposal,
        given="\n".join(proposal.macs if proposal else shown.member.macs),
        errors=[],
    )


def _mac_error(error: ValidationError) -> str:
    """A refused MAC and why (``02:00:00:00:00:21 is already used by AS55714``)."""
    return f"{error.value} {error.reason}" if isinstance(error.value, str) else error.reason


@router.post("/macs", response_class=HTMLResponse)
def propose_macs(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    given: Annotated[str, Form(alias="macs", max_length=MAX_MACS * 40)] = "",
) -> Response:
    """Propose the member's whole new MAC list for an operator's review; every bad MAC is
    named and nothing is stored until the list is clean."""
    shown = shown_member(db, user, asn, pages)
    listed = given.replace(",", " ").split()
    try:
        macreview.propose(db, shown.member.asn, listed, actor=user.username)
    except ValidationError as exc:
        return member_page(
            request,
            "member/macs.html",
            viewer,
            shown,
            "macs",
            status=422,
            proposal=_open_proposal(db, shown.member.asn),
            given=given,
            errors=[_mac_error(e) for e in exc.errors],
        )
    return RedirectResponse(f"/members/{shown.member.asn}/macs", status_code=303)
