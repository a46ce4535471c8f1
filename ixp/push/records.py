"""Reading the push records: the listing, one push in full, and each route server's push state.

These are the service functions ``ixp push list|show`` call, and the ones the
portal's operator pages and the API are to call (``list_pushes``, ``show_push``,
``push_diff``); the monitor reads ``rs_push_states`` for its alerts (a route
server whose configuration is older than a day, or that the last push could
not reach).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, selectinload

from ixp.errors import NotFound
from ixp.models import ConfigVersion, PushRecord, PushTarget, RouteServer, TargetState


@dataclass(frozen=True)
class TargetView:
    """One route server of a push."""

    route_server: str
    position: int
    state: str
    reason: str | None
    version_sha256: str | None
    previous_sha256: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    health: dict[str, Any] | None

    @classmethod
    def of(cls, target: PushTarget) -> TargetView:
        """The view of a stored target (its route server and versions loaded)."""
        return cls(
            route_server=target.route_server.name,
            position=target.position,
            state=target.state.value,
            reason=target.reason,
            version_sha256=target.version.sha256 if target.version else None,
            previous_sha256=target.previous_version.sha256 if target.previous_version else None,
            started_at=target.started_at,
            finished_at=target.finished_at,
            health=target.health,
        )


@dataclass(frozen=True)
class PushSummary:
    """One push as the listing shows it; ``route_servers`` says how each one ended."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    actor: str
    state: str
    dry_run: bool
    approved: bool
    stage: str
    build_id: int | None
    route_servers: str
    reason: str | None

    @classmethod
    def of(cls, record: PushRecord) -> PushSummary:
        """The summary of a stored push (its targets loaded)."""
        return cls(
            id=record.id,
            started_at=record.started_at,
            finished_at=record.finished_at,
            actor=record.actor,
            state=record.state.value,
            dry_run=record.dry_run,
            approved=record.approved,
            stage=record.stage,
            build_id=record.build_id,
            route_servers=", ".join(
                f"{target.route_server.name}: {target.state.value}" for target in record.targets
            ),
            reason=record.reason,
        )


@dataclass(frozen=True)
class PushDetail(PushSummary):
    """A push in full: where it ran, each route server, and its report (registry holds,
    each route server's diff summary, the impact preview; unified diffs apart)."""

    host: str
    pid: int
    targets: tuple[TargetView, ...]
    report: dict[str, Any]


def _targets() -> Any:
    return selectinload(PushRecord.targets).options(
        selectinload(PushTarget.route_server),
        selectinload(PushTarget.version).options(defer(ConfigVersion.compressed)),
        selectinload(PushTarget.previous_version).options(defer(ConfigVersion.compressed)),
    )


def list_pushes(session: Session, *, limit: int, offset: int = 0) -> tuple[list[PushSummary], int]:
    """One page of the recorded pushes, newest first, and how many there are."""
    query = (
        select(PushRecord)
        .options(defer(PushRecord.report), _targets())
        .order_by(PushRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = session.scalar(select(func.count()).select_from(PushRecord)) or 0
    return [PushSummary.of(record) for record in session.scalars(query)], total


def _record(session: Session, push_id: int) -> PushRecord:
    record = (
        session.scalar(select(PushRecord).options(_targets()).where(PushRecord.id == push_id))
        if 0 < push_id < 2**31
        else None
    )
    if record is None:
        raise NotFound("does not exist", field="push", value=push_id)
    return record


def _without_unified(report: dict[str, Any]) -> dict[str, Any]:
    """The report with each diff's unified text left out (``push_diff`` gives it)."""
    diffs = {
        name: {key: value for key, value in diff.items() if key != "unified"}
        for name, diff in (report.get("diffs") or {}).items()
    }
    return {**report, "diffs": diffs} if diffs else dict(report)


def show_push(session: Session, push_id: int) -> PushDetail:
    """One recorded push in full, without the unified diffs."""
    record = _record(session, push_id)
    summary = PushSummary.of(record)
    return PushDetail(
        **vars(summary),
        host=record.host,
        pid=record.pid,
        targets=tuple(TargetView.of(t) for t in record.targets),
        report=_without_unified(record.report or {}),
    )


def push_diff(session: Session, push_id: int, rs_name: str | None = None) -> dict[str, str]:
    """The unified diffs of a push by route server (only ``rs_name``'s when given)."""
    diffs = (_record(session, push_id).report or {}).get("diffs") or {}
    if rs_name is not None and rs_name not in diffs:
        raise NotFound(f"has no diff for route server {rs_name!r}", field="push", value=push_id)
    return {
        name: str(diff.get("unified", ""))
        for name, diff in sorted(diffs.items())
        if rs_name is None or name == rs_name
    }


@dataclass(frozen=True)
class RsPushState:
    """What the push records say about one route server, for the monitor's alerts.

    ``last_good_at``: when a push last left it running the newest configuration
    (confirmed, or found it already did); ``unreachable``: why the newest push
    that tried it could not reach it, if that is how it ended.
    """

    route_server_id: int
    name: str
    last_good_at: dt.datetime | None
    unreachable: str | None


_GOOD = (TargetState.confirmed, TargetState.unchanged)
_TRIED = (
    TargetState.confirmed,
    TargetState.unchanged,
    TargetState.rolled_back,
    TargetState.failed,
    TargetState.unreachable,
)


def rs_push_states(session: Session) -> list[RsPushState]:
    """Every route server that any push has tried (dry runs do not count), by name."""
    tried = (
        select(PushTarget.route_server_id, func.max(PushTarget.id).label("last"))
        .join(PushRecord, PushTarget.push_id == PushRecord.id)
        .where(PushRecord.dry_run.is_(False), PushTarget.state.in_(_TRIED))
        .group_by(PushTarget.route_server_id)
        .subquery()
    )
    good = (
        select(PushTarget.route_server_id, func.max(PushTarget.finished_at).label("at"))
        .where(PushTarget.state.in_(_GOOD))
        .group_by(PushTarget.route_server_id)
        .subquery()
    )
    rows = session.execute(
        select(RouteServer.id, RouteServer.name, PushTarget.state, PushTarget.reason, good.c.at)
        .join(tried, tried.c.route_server_id == RouteServer.id)
        .join(PushTarget, PushTarget.id == tried.c.last)
        .outerjoin(good, good.c.route_server_id == RouteServer.id)
        .order_by(RouteServer.name)
    )
    return [
        RsPushState(
            route_server_id=rs_id,
            name=name,
            last_good_at=at,
            unreachable=(reason or "unreachable") if state is TargetState.unreachable else None,
        )
        for rs_id, name, state, reason, at in rows
    ]
