"""Registry data per member (IRR status, held changes, RPKI) and the operator's approval,
as ``ixp irr show|approve`` and ``ixp rpki show`` give them."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Db, Operator, User, own_asn
from api.routers.members import Asn
from api.schemas.problem import errors
from ixp import members
from ixp.irr import service as irr
from ixp.irr.service import IrrDetail, IrrStatus
from ixp.rpki import service as rpki
from ixp.rpki.service import MemberRpki, RpkiStatus

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/members/{asn}/irr", summary="A member's IRR status", responses=errors(404, 422))
def irr_status(asn: Asn, user: User, db: Db) -> IrrStatus:
    """The registry data in use for the member's filters (AS-SET, counts, when fetched) and
    any newer data held for an operator's approval."""
    return irr.irr_status(db, members.get_member(db, own_asn(user, asn)))


@router.get(
    "/members/{asn}/irr/prefixes",
    summary="A member's IRR data with its prefixes",
    responses=errors(404, 422),
)
def irr_detail(asn: Asn, user: User, db: Db) -> IrrDetail:
    """The IRR status with the ASNs and every accepted prefix and its longest length."""
    return irr.irr_detail(db, members.get_member(db, own_asn(user, asn)))


@router.post(
    "/members/{asn}/irr/approve",
    summary="Approve held IRR data",
    responses=errors(403, 404, 422),
)
def irr_approve(asn: Asn, operator: Operator, db: Db) -> IrrStatus:
    """Put the member's held registry data into use (404 if nothing is held); audited."""
    member = members.get_member(db, asn)
    irr.approve(db, member, actor=operator.username)
    return irr.irr_status(db, member)


@router.get("/members/{asn}/rpki", summary="A member's ROAs", responses=errors(404, 422))
def member_rpki(asn: Asn, user: User, db: Db) -> MemberRpki:
    """The loaded ROAs that authorise the member's ASN as origin."""
    return rpki.member_rpki(db, members.get_member(db, own_asn(user, asn)).asn)


@router.get("/rpki", summary="The loaded ROA set", responses=errors(422))
def rpki_status(user: User, db: Db) -> RpkiStatus:
    """How many ROAs are loaded, when and from which file."""
    return rpki.rpki_status(db)
