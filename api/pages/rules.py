"""A member's route-server filtering rules in the portal: the list, and a form with a preview.

The form asks for one rule at a time (what, which peer, which families, how many
prepends) and never saves straight away: *Preview* checks the rule with the rules
the member already has (``ixp.rsrules.preview_add``, the checks ``add_rule`` makes)
and says what the next build would change for which peers; only *Save this rule*
on that page stores it. A bad field is marked at its input, every one at once, as
on the contacts form. Who may see what is the member pages' rule (``shown_member``):
a member's own users and operators; another member's page is the same 404 as none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, MemberPages, User
from api.pages.member import Shown, field_errors, member_page, shown_member
from api.pages.render import Look, Viewer
from api.routers.members import Asn
from ixp import rsrules
from ixp.errors import ValidationError
from ixp.rsrules import ALL_PEERS, Preview, RuleInput

router = APIRouter(prefix="/members/{asn}/rules", include_in_schema=False)

ACTIONS = (
    ("do-not-announce", "Do not announce my routes to"),
    ("announce-only", "Announce my routes only to"),
    ("prepend", "Prepend my ASN towards"),
    ("do-not-accept", "Do not accept the routes of"),
)
FAMILIES = (("both", "IPv4 and IPv6"), ("ipv4", "IPv4 only"), ("ipv6", "IPv6 only"))
PREPENDS = (("", "Not prepending"), ("1", "Once"), ("2", "Twice"), ("3", "3 times"))

FormText = Annotated[str, Form(max_length=32)]


def _peers(db: Session, shown: Shown) -> list[tuple[str, str]]:
    """The peers the form offers: every peer, then each member that can be named."""
    choices = rsrules.peer_choices(db, shown.member.asn)
    return [(ALL_PEERS, "Every peer"), *((str(asn), f"AS{asn} {name}") for asn, name in choices)]


def _rules_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    shown: Shown,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    preview: Preview | None = None,
    done: str | None = None,
) -> HTMLResponse:
    errors = errors or {}
    context: dict[str, Any] = {
        "rules": rsrules.list_rules(db, shown.member.asn),
        "actions": ACTIONS,
        "families": FAMILIES,
        "prepends": PREPENDS,
        "peers": _peers(db, shown),
        "values": values or {"action": ACTIONS[0][0], "peer": "", "family": "both", "prepend": ""},
        "errors": errors,
        "preview": preview,
        "done": done,
    }
    status = 422 if errors else 200
    return member_page(
        request, "member/rules.html", viewer, shown, "rules", status=status, **context
    )


@dataclass(frozen=True)
class RuleForm:
    """The rule form as sent: its fields as typed (to show again) and the rule they make."""

    values: dict[str, str]
    given: RuleInput


def _rule_form(
    action: FormText = "", peer: FormText = "", family: FormText = "both", prepend: FormText = ""
) -> RuleForm:
    values = {"action": action, "peer": peer, "family": family, "prepend": prepend}
    return RuleForm(values, RuleInput(action, peer, family, prepend or None))


Sent = Annotated[RuleForm, Depends(_rule_form)]


@router.get("", response_class=HTMLResponse)
def rules(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    done: Annotated[str | None, Query(max_length=16, pattern="^(saved|removed)$")] = None,
) -> HTMLResponse:
    """The member's rules, and the form to add one."""
    shown = shown_member(db, user, asn, pages)
    return _rules_page(request, db, viewer, shown, done=done)


@router.post("/preview", response_class=HTMLResponse)
def preview_rule(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    sent: Sent,
) -> HTMLResponse:
    """What the rule would change at the next build, with the button that saves it; nothing
    is stored yet."""
    shown = shown_member(db, user, asn, pages)
    try:
        preview = rsrules.preview_add(db, shown.member.asn, sent.given)
    except ValidationError as exc:
        errors = field_errors(exc)
        return _rules_page(request, db, viewer, shown, values=sent.values, errors=errors)
    return _rules_page(request, db, viewer, shown, values=sent.values, preview=preview)


@router.post("", response_class=HTMLResponse)
def save_rule(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    sent: Sent,
) -> Response:
    """Store the rule (checked again: the member's rules may have changed since the preview)."""
    shown = shown_member(db, user, asn, pages)
    try:
        rsrules.add_rule(db, shown.member.asn, sent.given, actor=user.username)
    except ValidationError as exc:
        errors = field_errors(exc)
        return _rules_page(request, db, viewer, shown, values=sent.values, errors=errors)
    return RedirectResponse(f"/members/{shown.member.asn}/rules?done=saved", status_code=303)


@router.post("/remove")
def remove_rule(
    asn: Asn,
    user: User,
    pages: MemberPages,
    db: Db,
    rule: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    """Remove one of the member's rules (another member's rule is a 404, as none)."""
    shown = shown_member(db, user, asn, pages)
    rsrules.remove_rule(db, shown.member.asn, rule, actor=user.username)
    return RedirectResponse(f"/members/{shown.member.asn}/rules?done=removed", status_code=303)
