"""Reading the audit log back: what was done to a member, by whom and when.

``ixp.audit`` writes the log; this reads it for people. A member's history is
every entry keyed by its ASN (``AS38193``): the member itself, its registry
data and its router MAC reviews. Each entry's change is shown field by field,
from the snapshots the log kept (``before`` and ``after``), so an entry reads the
same years later whatever the code calls those fields by then.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.models import AuditEntry

HISTORY_SHOWN = 50


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry: its value before and after (None: not there)."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One audit entry, its changes field by field (only the fields that changed)."""

    at: dt.datetime
    actor: str
    action: str
    entity: str
    changes: tuple[FieldChange, ...]


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[FieldChange, ...]:
    old, new = before or {}, after or {}
    fields = [*old, *(name for name in new if name not in old)]
    return tuple(
        FieldChange(name, _shown(old.get(name)), _shown(new.get(name)))
        for name in fields
        if old.get(name) != new.get(name)
    )


def member_history(session: Session, asn: int, *, limit: int = HISTORY_SHOWN) -> list[HistoryEntry]:
    """The newest ``limit`` audit entries about member ``asn``, newest first, in one query."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.entity_key == f"AS{asn}")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        HistoryEntry(e.at, e.actor, e.action, e.entity, _changes(e.before, e.after))
        for e in session.scalars(query)
    ]
