"""Writing a push's record as it goes: its stage, its report, each route server, its outcome.

Every step commits at once, so what a killed run leaves in the database is exactly
how far it got: the stage it was at and the route server it was changing
(``applying``). The report keeps plain JSON as the database gives it back, so a
push read in the same session looks as it will when read later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ixp import audit
from ixp.db import transaction
from ixp.models import PushRecord, PushState, PushTarget, TargetState
from ixp.models.base import utcnow

Progress = Callable[[str], None]
_REASON_LENGTH = int(PushRecord.__table__.c.reason.type.length)  # type: ignore[attr-defined]


def short(text: str) -> str:
    """``text`` cut to what a reason column holds."""
    return text if len(text) <= _REASON_LENGTH else text[: _REASON_LENGTH - 1] + "…"


class PushRecorder:
    """The push's row and its targets, written as the push goes (each step commits)."""

    def __init__(self, session: Session, record: PushRecord, progress: Progress) -> None:
        self.session = session
        self.record = record
        self.progress = progress

    def stage(self, stage: str) -> None:
        """Say (and record) which step the push is at."""
        with transaction(self.session):
            self.record.stage = stage
        self.progress(stage)

    def note(self, key: str, value: Any) -> None:
        """Keep ``value`` in the push's report under ``key``, as the database gives it back
        (lists, not tuples), whether read now or later."""
        with transaction(self.session):
            plain = json.loads(json.dumps(value))
            self.record.report = {**(self.record.report or {}), key: plain}

    def target(self, target: PushTarget, state: TargetState, **changes: Any) -> None:
        """Move one route server's row to ``state`` (``changes``: other columns to set)."""
        with transaction(self.session):
            target.state = state
            if state is TargetState.applying:
                target.started_at = utcnow()
            elif state is not TargetState.pending:
                target.finished_at = utcnow()
            for name, value in changes.items():
                setattr(target, name, short(value) if name == "reason" and value else value)

    def skip_pending(self, reason: str) -> None:
        """Every route server not reached yet is ``skipped``, for ``reason``."""
        for target in self.record.targets:
            if target.state is TargetState.pending:
                self.target(target, TargetState.skipped, reason=reason)

    def finish(self, state: PushState, reason: str | None = None) -> None:
        """End the push as ``state``, with an audit entry naming how each route server ended."""
        with transaction(self.session):
            self.record.state = state
            self.record.reason = short(reason) if reason else None
            self.record.finished_at = utcnow()
            audit.record(
                self.session,
                actor=self.record.actor,
                action="push",
                entity="push",
                key=str(self.record.id),
                after={
                    "state": state.value,
                    "dry_run": self.record.dry_run,
                    "approved": self.record.approved,
                    "build": self.record.build_id,
                    "route_servers": {
                        t.route_server.name: t.state.value for t in self.record.targets
                    },
                    "reason": self.record.reason,
                },
            )
