"""Routing-registry data cached per member: the last good prefix lists and any held update.

Each member has at most one ``current`` row (what the route-server config uses)
and at most one ``pending`` row (newer data that changed more than the safety
thresholds allow and waits for an operator). Prefix lists are stored as JSON
arrays on the row rather than one row per prefix: the renderer always reads a
member's whole list at once, and a sync replaces it whole, so a blob is both
the faster read and the simpler atomic write on SQLite and PostgreSQL alike.
Each list is two parallel arrays, ``{"prefix": [...], "max_length": [...]}``:
decoding flat arrays is about twice as fast as decoding a pair per prefix, which
matters when a build reads 600,000 prefixes.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime
from ixp.models.member import Member


class IrrDataState(enum.StrEnum):
    """Whether a row is the data in use or an update waiting for approval."""

    current = "current"
    pending = "pending"


class IrrPrefixData(Base):
    """One member's expanded registry data: AS-SET, origin ASNs and prefix lists per family."""

    __tablename__ = "irr_data"
    __table_args__ = (UniqueConstraint("member_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    state: Mapped[IrrDataState] = mapped_column(Enum(IrrDataState, native_enum=False, length=16))
    as_set: Mapped[str] = mapped_column(String(600))
    asns: Mapped[list[int]] = mapped_column(JSON)
    prefixes_v4: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    prefixes_v6: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    member: Mapped[Member] = relationship()
