"""Listings come in pages: ``limit`` and ``offset`` in, ``items`` and ``total`` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=2**31, description="Items to skip.")]


class Page(BaseModel, Generic[T]):
    """One page of a listing; ``total`` counts every item that matched."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    """The page of ``items`` (already filtered and ordered) from ``offset``."""
    return Page[T](
        items=list(items[offset : offset + limit]), total=len(items), limit=limit, offset=offset
    )
