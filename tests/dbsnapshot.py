"""Every row of every table, ordered: to prove a failed command changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from ixp.models import Base


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """All rows of all ixp tables, each table sorted by its columns' text."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            rows = [tuple(row) for row in conn.execute(select(table))]
            result[name] = sorted(rows, key=repr)
    return result
