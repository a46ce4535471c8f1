"""Validated ROA payloads (VRPs) loaded from a validator's JSON export, and the load history.

The set is replaced whole by each load, inside one transaction, so the
route-server config always sees one validator run, never a mix of two.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ixp.models.base import Base, UtcDateTime, utcnow


class RpkiRoa(Base):
    """One VRP: a prefix, the longest length it may be announced at, and the origin ASN."""

    __tablename__ = "rpki_roas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(64))
    max_length: Mapped[int] = mapped_column(Integer)
    asn: Mapped[int] = mapped_column(BigInteger)
    ta: Mapped[str | None] = mapped_column(String(64))


class RpkiLoad(Base):
    """One accepted load of a ROA file; the newest row describes the set in ``rpki_roas``."""

    __tablename__ = "rpki_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    roas_v4: Mapped[int] = mapped_column(Integer)
    roas_v6: Mapped[int] = mapped_column(Integer)
    forced: Mapped[bool] = mapped_column(default=False)
