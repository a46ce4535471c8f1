"""Members: list, read, onboard, change, suspend and remove, as ``ixp member`` does.

The same service functions, validation and audit log as the CLI, recorded under
the caller's user name. A member's own users see only their member (any other
ASN is 404, exactly as one that does not exist) and may change only its contacts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from api import problems
from api.deps import Db, MemberPages, Operator, Settings, User, own_asn, scope_asn
from api.pagination import Limit, Offset, Page
from api.schemas.members import MEMBER_EDITABLE, MemberChanges, NewMember
from api.schemas.problem import errors
from ixp import members
from ixp.members import MemberFilter, MemberInput, MemberView
from ixp.models import MemberStatus
from ixp.validate import MAX_ASN

router = APIRouter(prefix="/api/v1/members", tags=["members"])

Asn = Annotated[int, Path(ge=1, le=MAX_ASN - 1, description="The member's AS number.")]


@router.get("", summary="Members", responses=errors(404, 422))
def list_members(
    user: User,
    db: Db,
    pages: MemberPages,
    status: Annotated[MemberStatus | None, Query(description="Only members in this state.")] = None,
    asn: Annotated[int | None, Query(ge=1, le=MAX_ASN - 1, description="Only this ASN.")] = None,
    route_server: Annotated[
        str | None, Query(description="Only members with a session on this route server.")
    ] = None,
    q: Annotated[
        str | None, Query(description="Part of the member's name (any case).", max_length=200)
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MemberView]:
    """The exchange's members by ASN; a member's users see only their own. Pages are
    reused while the members' data version stays the same (``ixp.versions``)."""
    where = MemberFilter(status=status, asn=scope_asn(user, asn), route_server=route_server, name=q)
    items, total = members.member_page(db, where, limit=limit, offset=offset, cache=pages)
    return Page[MemberView](items=items, total=total, limit=limit, offset=offset)


@router.get("/{asn}", summary="One member", responses=errors(404, 422))
def show_member(asn: Asn, user: User, db: Db) -> MemberView:
    """Everything about one member."""
    return members.show_member(db, own_asn(user, asn))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Onboard a member",
    responses=errors(403, 404, 409, 422),
)
def add_member(new: NewMember, operator: Operator, db: Db, settings: Settings) -> MemberView:
    """Validate every field, then create the member with its addresses, port and sessions
    with every route server, in one transaction."""
    return members.add_member(
        db,
        MemberInput(**new.model_dump()),
        allow_lab=settings.allow_lab_asns,
        actor=operator.username,
    )


def _not_yours(fields: list[str], changes: dict[str, Any]) -> JSONResponse:
    """The 403 for a member's user changing what only operators may, naming every field."""
    return problems.problem(
        403,
        f"only operators may change {', '.join(fields)}",
        kind="forbidden",
        errors=[
            problems.field_error(name, changes[name], "only operators may change this")
            for name in fields
        ],
    )


@router.patch(
    "/{asn}",
    summary="Change a member",
    response_model=MemberView,
    responses=errors(403, 404, 409, 422),
)
def update_member(
    asn: Asn, changes: MemberChanges, user: User, db: Db
) -> MemberView | JSONResponse:
    """Change the fields sent, all or none. A member's own users may change its contacts
    (``noc_email``, ``noc_phone``, ``peering_email``, ``url``) and nothing else."""
    number = own_asn(user, asn)
    given = changes.given()
    if not user.is_operator:
        refused = sorted(given.keys() - MEMBER_EDITABLE)
        if refused:
            return _not_yours(refused, given)
    return members.update_member(db, number, given, actor=user.username)


@router.post("/{asn}/suspend", summary="Suspend a member", responses=errors(403, 404, 422))
def suspend_member(asn: Asn, operator: Operator, db: Db) -> MemberView:
    """Keep the member but leave its sessions out of the next build."""
    return members.suspend_member(db, asn, actor=operator.username)


@router.delete("/{asn}", summary="Remove a member", responses=errors(403, 404, 422))
def remove_member(asn: Asn, operator: Operator, db: Db) -> MemberView:
    """Delete the member and free its addresses and MACs; returns what it was."""
    return members.remove_member(db, asn, actor=operator.username)
