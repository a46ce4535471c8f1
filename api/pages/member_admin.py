"""More of a member's pages: its registry data and RPKI for its users and operators, and for
operators its audit history and the suspend and remove buttons.

Registry and RPKI read what ``GET /api/v1/members/{asn}/irr/prefixes`` and
``/rpki`` serve, plus each registered prefix checked against the ROAs; held
registry data has an approve button (operators, as ``ixp irr approve``). The
history is the audit log of the member. Suspending and removing ask first: the
button leads to a page that says what will happen, whose form does it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, MemberPages, Operator, Principal, User
from api.pages.member import member_page, shown_member
from api.pages.render import Look, Viewer
from api.routers.members import Asn
from ixp import auditlog, members
from ixp.irr import service as irr
from ixp.members import MemberPages as MemberPagesCache
from ixp.rpki import coverage
from ixp.rpki import service as rpki

router = APIRouter(prefix="/members/{asn}", include_in_schema=False)

# What each confirmation page says will happen, and its button.
_ACTIONS = {
    "suspend": (
        "Suspend",
        "The member stays, with its addresses and MACs, but the next build leaves its "
        "sessions out: after that build its routes are no longer exchanged over the route "
        "servers. Changing its status back to active undoes it.",
    ),
    "remove": (
        "Remove",
        "The member, its addresses, MACs, sessions and registry data are deleted, and its "
        "users lose access to its pages. Only the audit log keeps its record. This cannot "
        "be undone.",
    ),
}


@router.get("/registry", response_class=HTMLResponse)
def registry(
    request: Request, asn: Asn, user: User, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """The registry data the member's filter is built from, and any newer data held."""
    shown = shown_member(db, user, asn, pages)
    member = members.get_member(db, shown.member.asn, shown.exchange)
    return member_page(
        request,
        "member/registry.html",
        viewer,
        shown,
        "registry",
        irr=irr.irr_detail(db, member),
    )


@router.post("/registry/approve")
def approve_registry(asn: Asn, operator: Operator, db: Db) -> Response:
    """Put the member's held registry data into use (``ixp irr approve``); audited."""
    irr.approve(db, members.get_member(db, asn), actor=operator.username)
    return RedirectResponse(f"/members/{asn}/registry", status_code=303)


@router.get("/rpki", response_class=HTMLResponse)
def member_rpki(
    request: Request, asn: Asn, user: User, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """Each registered prefix checked against the ROAs, and the ROAs of the member's ASN."""
    shown = shown_member(db, user, asn, pages)
    detail = irr.irr_detail(db, members.get_member(db, shown.member.asn, shown.exchange))
    entries = [*detail.v4, *detail.v6]
    return member_page(
        request,
        "member/rpki.html",
        viewer,
        shown,
        "rpki",
        prefixes=coverage.prefix_rpki(db, entries, detail.asn_list),
        registered=len(entries),
        shown_at_most=coverage.PREFIXES_SHOWN,
        own=rpki.member_rpki(db, shown.member.asn),
    )


@router.get("/history", response_class=HTMLResponse)
def history(
    request: Request, asn: Asn, operator: Operator, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """What was done to the member, by whom and when (the audit log), newest first."""
    shown = shown_member(db, operator, asn, pages)
    return member_page(
        request,
        "member/history.html",
        viewer,
        shown,
        "history",
        entries=auditlog.member_history(db, shown.member.asn),
    )


def _confirm(
    request: Request,
    viewer: Viewer,
    db: Session,
    operator: Principal,
    asn: int,
    pages: MemberPagesCache,
    action: str,
) -> HTMLResponse:
    shown = shown_member(db, operator, asn, pages)
    button, words = _ACTIONS[action]
    return member_page(
        request,
        "member/confirm.html",
        viewer,
        shown,
        "history",
        action=action,
        button=button,
        words=words,
    )


@router.get("/suspend", response_class=HTMLResponse)
def confirm_suspend(
    request: Request, asn: Asn, operator: Operator, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """What suspending does, and the button that does it."""
    return _confirm(request, viewer, db, operator, asn, pages, "suspend")


@router.post("/suspend")
def suspend(asn: Asn, operator: Operator, db: Db) -> Response:
    """Suspend the member (``ixp member suspend``): left out of the next build."""
    members.suspend_member(db, asn, actor=operator.username)
    return RedirectResponse(f"/members/{asn}/history", status_code=303)


@router.get("/remove", response_class=HTMLResponse)
def confirm_remove(
    request: Request, asn: Asn, operator: Operator, pages: MemberPages, viewer: Look, db: Db
) -> HTMLResponse:
    """What removing does, and the button that does it."""
    return _confirm(request, viewer, db, operator, asn, pages, "remove")


@router.post("/remove")
def remove(asn: Asn, operator: Operator, db: Db) -> Response:
    """Remove the member (``ixp member remove``) and go back to the members table."""
    members.remove_member(db, asn, actor=operator.username)
    return RedirectResponse(f"/members?q=AS{asn}", status_code=303)
