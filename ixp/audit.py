"""Writing the audit log: every change records who, what, and the before/after state."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ixp.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the current transaction (it commits or rolls back with the change)."""
    session.add(
        AuditEntry(
            actor=actor, action=action, entity=entity, entity_key=key, before=before, after=after
        )
    )
