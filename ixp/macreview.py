"""Router MAC changes a member proposes and an operator reviews: the services the CLI and API share.

The exchange's port security allows exactly the MACs on record, so a member's
own users cannot change them (``update_member`` is for operators): they propose
their whole new list instead. The list is checked at once, as ``update_member``
would check it, so that a member hears about every bad MAC (malformed, not
unicast, used by another member) before any operator looks at it. A member has
at most one open proposal; a new one replaces it.

An operator then approves it, which applies it through ``update_member`` in the
same transaction (so it is checked again: another member may have taken one of
the MACs meanwhile, which is a ``Conflict`` and applies nothing), or rejects it
with a reason the member can read. Each step is in the audit log under
``mac-proposal``; the MAC change itself is also logged as the member's update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from ixp import addressing, audit, validate
from ixp.db import transaction
from ixp.errors import NotFound, Problems, ValidationError
from ixp.exchange import get_exchange, peering_lan
from ixp.members import get_member, update_member
from ixp.models import (
    Connection,
    MacAddress,
    MacProposal,
    MacProposalStatus,
    Member,
)
from ixp.models.base import utcnow

AUDIT_ENTITY = "mac-proposal"
REASON_MAX_LENGTH = 1000


@dataclass(frozen=True)
class MacProposalView:
    """A proposal as the CLI prints it and the API serves it.

    ``macs`` is the proposed list and ``in_use`` the member's MACs now, so a
    reviewer sees both side by side; ``reason`` is why an operator rejected it.
    """

    id: int
    asn: int
    name: str
    status: MacProposalStatus
    macs: tuple[str, ...]
    in_use: tuple[str, ...]
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None

    @classmethod
    def of(cls, proposal: MacProposal) -> MacProposalView:
        """The view of a proposal loaded with its member's connections and MACs."""
        member = proposal.member
        return cls(
            id=proposal.id,
            asn=member.asn,
            name=member.display_name,
            status=proposal.status,
            macs=tuple(proposal.macs),
            in_use=_in_use(member),
            proposed_by=proposal.proposed_by,
            proposed_at=proposal.proposed_at,
            decided_by=proposal.decided_by,
            decided_at=proposal.decided_at,
            reason=proposal.reason,
        )


def _in_use(member: Member) -> tuple[str, ...]:
    return tuple(sorted(m.mac for c in member.connections for m in c.macs))


def _snapshot(proposal: MacProposal) -> dict[str, object]:
    """A proposal as the audit log records it."""
    return {
        "id": proposal.id,
        "macs": list(proposal.macs),
        "status": proposal.status.value,
        "proposed_by": proposal.proposed_by,
        "reason": proposal.reason,
    }


def _query() -> Select[MacProposal]:
    """Proposals with what their views need, in a fixed number of queries however many."""
    return select(MacProposal).options(
        selectinload(MacProposal.member)
        .selectinload(Member.connections)
        .selectinload(Connection.macs)
    )


def _open_of(session: Session, member: Member) -> MacProposal | None:
    return session.scalar(_query().where(MacProposal.open_member_id == member.id))


def _checked_macs(session: Session, member: Member, given: Sequence[str]) -> list[str]:
    """``given`` normalised, sorted and without duplicates, as ``update_member`` stores MACs;
    every malformed MAC, and every one another member uses, is reported at once."""
    problems = Problems()
    normalised = {problems.check(validate.mac, value, "macs") for value in given}
    macs = sorted(mac for mac in normalised if mac is not None)
    holders = session.execute(
        select(MacAddress.mac, Member.asn)
        .join(MacAddress.connection)
        .join(Connection.member)
        .where(MacAddress.mac.in_(macs), Member.id != member.id)
    )
    for mac, asn in sorted(holders):
        problems.add(ValidationError("macs", mac, f"is already used by AS{asn}"))
    if not problems and tuple(macs) == _in_use(member):
        problems.add(ValidationError("macs", macs, "are the MACs in use already"))
    problems.raise_any()
    return macs


def propose(
    session: Session, asn: int | str, macs: Sequence[str], *, actor: str
) -> MacProposalView:
    """Propose ``macs`` as the member's whole new MAC list, replacing its open proposal.

    Checked against the other members under the LAN's lock, as ``update_member``
    checks: what is free now stays free until the commit.
    """
    exchange = get_exchange(session)
    with transaction(session):
        addressing.lock_lan(session, peering_lan(exchange))
        member = get_member(session, asn, exchange)
        checked = _checked_macs(session, member, macs)
        replaced = _open_of(session, member)
        if replaced is not None:
            replaced.status = MacProposalStatus.replaced
            replaced.open_member_id = None
            session.flush()
        proposal = MacProposal(
            member=member,
            open_member_id=member.id,
            macs=checked,
            status=MacProposalStatus.open,
            proposed_by=audit.check_actor(actor),
        )
        session.add(proposal)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="propose",
            entity=AUDIT_ENTITY,
            key=f"AS{member.asn}",
            before=_snapshot(replaced) if replaced is not None else None,
            after=_snapshot(proposal),
        )
    return MacProposalView.of(proposal)


def _get_open(session: Session, member: Member) -> MacProposal:
    proposal = _open_of(session, member)
    if proposal is None:
        raise NotFound(f"AS{member.asn} has no MAC change waiting for review")
    return proposal


def open_proposal(session: Session, asn: int | str) -> MacProposalView:
    """The member's proposal waiting for review (``NotFound`` when there is none)."""
    return MacProposalView.of(_get_open(session, get_member(session, asn)))


def _decide(
    session: Session,
    proposal: MacProposal,
    status: MacProposalStatus,
    *,
    action: str,
    actor: str,
    reason: str | None = None,
) -> None:
    """Close ``proposal`` as ``status`` and log it as ``action`` (inside the caller's
    transaction)."""
    before = _snapshot(proposal)
    proposal.status = status
    proposal.open_member_id = None
    proposal.decided_by = audit.check_actor(actor)
    proposal.decided_at = utcnow()
    proposal.reason = reason
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity=AUDIT_ENTITY,
        key=f"AS{proposal.member.asn}",
        before=before,
        after=_snapshot(proposal),
    )


def approve(session: Session, asn: int | str, *, actor: str) -> MacProposalView:
    """Make the member's open proposal its MAC list, through ``update_member``.

    Everything is checked again: a MAC another member took since the proposal is
    a ``Conflict`` naming it, and then nothing is applied and the proposal stays
    open (to be rejected, or replaced by the member).
    """
    exchange = get_exchange(session)
    with transaction(session):
        addressing.lock_lan(session, peering_lan(exchange))
        member = get_member(session, asn, exchange)
        proposal = _get_open(session, member)
        update_member(session, member.asn, {"macs": proposal.macs}, exchange=exchange, actor=actor)
        _decide(session, proposal, MacProposalStatus.approved, action="approve", actor=actor)
    return MacProposalView.of(proposal)


def reject(session: Session, asn: int | str, reason: str, *, actor: str) -> MacProposalView:
    """Close the member's open proposal unapplied, with ``reason`` for the member to read."""
    checked = validate.text(reason, "reason", max_length=REASON_MAX_LENGTH)
    with transaction(session):
        proposal = _get_open(session, get_member(session, asn))
        _decide(
            session,
            proposal,
            MacProposalStatus.rejected,
            action="reject",
            actor=actor,
            reason=checked,
        )
    return MacProposalView.of(proposal)


def proposal_page(
    session: Session,
    *,
    status: MacProposalStatus | None = None,
    asn: int | str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[MacProposalView], int]:
    """Proposals oldest first (the review queue's order), optionally of one status or one
    member, cut to a page in the database; and how many match in all."""
    exchange = get_exchange(session)
    matching = select(MacProposal.id).join(MacProposal.member)
    matching = matching.where(Member.exchange_id == exchange.id)
    if status is not None:
        matching = matching.where(MacProposal.status == status)
    if asn is not None:
        matching = matching.where(MacProposal.member_id == get_member(session, asn, exchange).id)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    query = _query().where(MacProposal.id.in_(matching)).order_by(MacProposal.id)
    chosen = session.scalars(query.limit(limit).offset(offset))
    return [MacProposalView.of(p) for p in chosen], total
