"""A member's own route-server filtering rules: who gets its routes, and whose it takes.

Members of small ISPs rarely tag their routes with the right announcement-control
communities; these rules say the same from a form, and the build compiles them into
the member's import and export handling (``ixp.rsrules`` words and checks them).

The peer is kept as an ASN, not as a foreign key to the peer's row: a rule must
outlive the peer leaving (or being removed) so the build can say it dropped it,
instead of the rule vanishing with no trace; it applies again if the peer returns.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime, utcnow
from ixp.models.member import Member


class RuleAction(enum.StrEnum):
    """What a rule does, seen from the member that owns it."""

    do_not_announce = "do-not-announce"
    """The peer does not get the member's routes."""
    announce_only = "announce-only"
    """Only the peers of such rules get the member's routes (one rule per peer of the set)."""
    prepend = "prepend"
    """The member's ASN is prepended 1-3 times on its routes towards the peer."""
    do_not_accept = "do-not-accept"
    """The member does not get the peer's routes from the route server."""


class RuleFamily(enum.StrEnum):
    """The address families a rule applies to."""

    ipv4 = "ipv4"
    ipv6 = "ipv6"
    both = "both"

    @property
    def numbers(self) -> tuple[int, ...]:
        """The families as numbers, ascending (``both``: 4 and 6)."""
        return {"ipv4": (4,), "ipv6": (6,), "both": (4, 6)}[self.value]


class RsRule(Base):
    """One filtering rule of a member; ``peer_asn`` NULL means every peer."""

    __tablename__ = "rs_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    action: Mapped[RuleAction] = mapped_column(Enum(RuleAction, native_enum=False, length=16))
    peer_asn: Mapped[int | None] = mapped_column(BigInteger)
    family: Mapped[RuleFamily] = mapped_column(Enum(RuleFamily, native_enum=False, length=8))
    # How many times the member's ASN is prepended (1-3); NULL for every other action.
    prepend: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    member: Mapped[Member] = relationship()
