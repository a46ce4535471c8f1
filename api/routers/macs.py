"""Router MAC changes for review: a member proposes its new list, an operator approves or
rejects it, as ``ixp member macs pending|approve|reject`` do.

A member's own users may propose (and read) only their member's; any other ASN is
404, exactly as one that does not exist. Deciding is for operators. The listing
shows a member's users their own proposals only, decided ones with the reason.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Db, Operator, User, own_asn, scope_asn
from api.pagination import Limit, Offset, Page
from api.routers.members import Asn
from api.schemas.members import MacProposalBody, MacRejection
from api.schemas.problem import errors
from ixp import macreview
from ixp.macreview import MacProposalView
from ixp.models import MacProposalStatus
from ixp.validate import MAX_ASN

router = APIRouter(prefix="/api/v1", tags=["members"])

PROPOSAL = "/members/{asn}/macs/proposal"


@router.post(
    PROPOSAL,
    status_code=status.HTTP_201_CREATED,
    summary="Propose new router MACs",
    responses=errors(404, 409, 422),
)
def propose(asn: Asn, body: MacProposalBody, user: User, db: Db) -> MacProposalView:
    """Propose the member's whole new MAC list for an operator's review, replacing its open
    proposal. Every malformed MAC, and every one another member uses, is named in ``errors``;
    nothing changes until an operator approves."""
    return macreview.propose(db, own_asn(user, asn), body.macs, actor=user.username)


@router.get(PROPOSAL, summary="The MAC change waiting for review", responses=errors(404, 422))
def open_proposal(asn: Asn, user: User, db: Db) -> MacProposalView:
    """The member's open proposal beside its MACs in use; 404 when none is waiting."""
    return macreview.open_proposal(db, own_asn(user, asn))


@router.post(
    f"{PROPOSAL}/approve",
    summary="Approve proposed router MACs",
    responses=errors(403, 404, 409, 422),
)
def approve(asn: Asn, operator: Operator, db: Db) -> MacProposalView:
    """Make the open proposal the member's MAC list, checked again: a MAC another member
    took since is 409 and nothing changes. Audited, as the member's update too."""
    return macreview.approve(db, asn, actor=operator.username)


@router.post(
    f"{PROPOSAL}/reject",
    summary="Reject proposed router MACs",
    responses=errors(403, 404, 422),
)
def reject(asn: Asn, body: MacRejection, operator: Operator, db: Db) -> MacProposalView:
    """Close the open proposal unapplied, with a reason the member reads."""
    return macreview.reject(db, asn, body.reason, actor=operator.username)


@router.get("/mac-proposals", summary="Proposed router MAC changes", responses=errors(404, 422))
def list_proposals(
    user: User,
    db: Db,
    status: Annotated[
        MacProposalStatus | None, Query(description="Only proposals in this state.")
    ] = None,
    asn: Annotated[int | None, Query(ge=1, le=MAX_ASN - 1, description="Only this ASN.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MacProposalView]:
    """Proposals oldest first, open and decided; a member's users see only their own."""
    items, total = macreview.proposal_page(
        db, status=status, asn=scope_asn(user, asn), limit=limit, offset=offset
    )
    return Page[MacProposalView](items=items, total=total, limit=limit, offset=offset)
