"""Router MAC changes a member proposed, waiting for (or decided by) an operator.

The exchange's port security allows exactly the MACs on record, so a member's
own users never change them directly: they propose the whole new list, and an
operator approves (the list becomes the member's MACs) or rejects it. Every
proposal is kept, decided or not, as the member's history of requests.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime, utcnow
from ixp.models.member import Member


class MacProposalStatus(enum.StrEnum):
    """Where a proposal stands: ``open`` until an operator decides, or a newer one replaces it."""

    open = "open"
    approved = "approved"
    rejected = "rejected"
    replaced = "replaced"


class MacProposal(Base):
    """One proposed list of a member's router MACs (normalised, sorted) and its outcome."""

    __tablename__ = "mac_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The member's id while the proposal is open, NULL once it is decided or replaced:
    # unique, so the database itself keeps one open proposal per member, against a
    # concurrent proposer too. (NULLs never collide on SQLite or PostgreSQL; a partial
    # unique index would do the same, but Alembic cannot compare its condition.)
    open_member_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    macs: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[MacProposalStatus] = mapped_column(
        Enum(MacProposalStatus, native_enum=False, length=16), index=True
    )
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Why an operator rejected it, for the member to read.
    reason: Mapped[str | None] = mapped_column(String(1000))

    member: Mapped[Member] = relationship()
