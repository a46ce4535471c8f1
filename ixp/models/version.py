"""How many times a group of tables has changed: what a cache of answers built from them
checks, in one small query, before reusing an answer."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ixp.models.base import Base


class DataVersion(Base):
    """One counter per group of tables (``members``: what a member's view shows), raised
    in the same transaction as every change to them."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
