"""Writing the audit log: every change records who, what, and the before/after state.

Who is always said by the caller (the CLI's configured actor, the API's signed-in
user): no service assumes one, so a change is never logged under the wrong name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ixp import validate
from ixp.models import AuditEntry

_ACTOR_COLUMN: Any = AuditEntry.actor
ACTOR_MAX_LENGTH = int(_ACTOR_COLUMN.type.length)


def check_actor(actor: str, field: str = "actor") -> str:
    """``actor`` if it can be recorded: one line of text that fits its column."""
    return validate.text(actor, field, max_length=ACTOR_MAX_LENGTH)


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
    """Add one audit entry to the current transaction (it commits or rolls back with the change).

    An actor that cannot be recorded refuses the change: the transaction rolls back.
    """
    session.add(
        AuditEntry(
            actor=check_actor(actor),
            action=action,
            entity=entity,
            entity_key=key,
            before=before,
            after=after,
        )
    )
