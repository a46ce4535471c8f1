"""Every route-server build, recorded: who ran it, when, whether it was published, and its
per-member summary.

``run_build`` is what ``ixp rs build`` and the API's build endpoint both call: it
runs ``ixp.rs.build.build`` and records the outcome in ``rs_builds`` whether the
configurations were published or not, so the history also shows the build BIRD
refused and why. A request that names no build at all (no exchange, an unknown
route server, an actor that cannot be recorded) is refused before anything runs
and leaves no record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from ixp import locks, validate
from ixp.db import transaction
from ixp.errors import IxpError, NotFound
from ixp.exchange import get_exchange, get_route_server
from ixp.models import BuildRecord, Exchange
from ixp.models.base import utcnow
from ixp.rs.build import BuildReport, MemberSummary, build, prepare_out_dir
from ixp.rs.context import IrrNote
from ixp.rs.types import DroppedRule, Excluded, RegistryState
from ixp.settings import Settings

log = logging.getLogger(__name__)

# Beside the configurations it guards; a dot-file, never one of them.
BUILD_LOCK = ".ixp-build.lock"
_ERROR_LENGTH = int(BuildRecord.__table__.c.error.type.length)  # type: ignore[attr-defined]
_ACTOR_LENGTH = int(BuildRecord.__table__.c.actor.type.length)  # type: ignore[attr-defined]


def default_out_dir(settings: Settings) -> Path:
    """Where builds are published unless told otherwise: ``<home>/rs`` (as ``make demo`` does)."""
    return settings.home / "rs"


@dataclass(frozen=True)
class BuildSummary:
    """One recorded build, without its per-member detail."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    actor: str
    ok: bool
    error: str | None
    route_servers: int
    members: int
    size_bytes: int

    @classmethod
    def of(cls, record: BuildRecord) -> BuildSummary:
        """The summary of a record (its report need not be loaded)."""
        return cls(
            id=record.id,
            started_at=record.started_at,
            finished_at=record.finished_at,
            actor=record.actor,
            ok=record.ok,
            error=record.error,
            route_servers=record.route_servers,
            members=record.members,
            size_bytes=record.size_bytes,
        )


@dataclass(frozen=True)
class RsBuildSummary:
    """What one route server got in a build: its members, those left out, registry notes."""

    rs_name: str
    path: str
    build_id: str
    sessions: int
    roas: int
    rpki_source: str
    members: tuple[MemberSummary, ...]
    excluded: tuple[Excluded, ...]
    irr_notes: tuple[IrrNote, ...]
    dropped_rules: tuple[DroppedRule, ...]


@dataclass(frozen=True)
class BuildDetail(BuildSummary):
    """A recorded build with each route server's per-member summary (none if it failed)."""

    out_dir: str | None
    servers: tuple[RsBuildSummary, ...]


@dataclass(frozen=True)
class BuildOutcome:
    """What ``run_build`` did: the record always; the report when it published, the error
    (already recorded) when it did not, for the caller to report as it reports errors."""

    record: BuildDetail
    report: BuildReport | None
    failure: IxpError | None


def _member(data: Mapping[str, Any]) -> MemberSummary:
    return MemberSummary(
        asn=data["asn"],
        name=data["name"],
        sessions=tuple(data["sessions"]),
        prefixes_v4=data["prefixes_v4"],
        prefixes_v6=data["prefixes_v6"],
        registry=RegistryState(data["registry"]),
    )


def _server(data: Mapping[str, Any], keep: Callable[[int], bool]) -> RsBuildSummary:
    """A route server's part of a stored report, with only the members ``keep`` accepts."""
    return RsBuildSummary(
        rs_name=data["rs_name"],
        path=data["path"],
        build_id=data["build_id"],
        sessions=data["sessions"],
        roas=data["roas"],
        rpki_source=data["rpki_source"],
        members=tuple(_member(m) for m in data["members"] if keep(m["asn"])),
        excluded=tuple(Excluded(**e) for e in data["excluded"] if keep(e["asn"])),
        irr_notes=tuple(IrrNote(**n) for n in data["irr_notes"] if keep(n["asn"])),
        dropped_rules=tuple(
            DroppedRule(**d) for d in data.get("dropped_rules", ()) if keep(d["asn"])
        ),
    )


def _detail(record: BuildRecord, only_asn: int | None) -> BuildDetail:
    report = record.report or {}
    servers = report.get("route_servers", [])
    assert isinstance(servers, list)
    keep: Callable[[int], bool] = (lambda _: True) if only_asn is None else only_asn.__eq__
    summary = BuildSummary.of(record)
    return BuildDetail(
        **{f.name: getattr(summary, f.name) for f in fields(BuildSummary)},
        out_dir=str(report["out_dir"]) if "out_dir" in report else None,
        servers=tuple(_server(s, keep) for s in servers),
    )


def _size(report: BuildReport) -> int:
    """The bytes published (0 for a file already gone again)."""
    total = 0
    for rs in report.route_servers:
        try:
            total += Path(rs.path).stat().st_size
        except OSError:
            continue
    return total


def run_build(
    session: Session,
    settings: Settings,
    out_dir: Path,
    *,
    rs_name: str | None = None,
    actor: str,
) -> BuildOutcome:
    """Build, check and publish like ``ixp.rs.build.build``, and record the outcome.

    One build at a time into ``out_dir`` (CLI, API and nightly job alike): another
    one already running there is a ``Conflict`` naming who started it.

    A failed build (BIRD refused a configuration, a file could not be published, a
    tool could not run) is recorded and returned in ``failure``; a bug is recorded
    and raised.
    """
    validate.text(actor, "actor", max_length=_ACTOR_LENGTH)
    exchange = get_exchange(session)
    if rs_name is not None:
        get_route_server(session, rs_name, exchange)
    prepare_out_dir(out_dir)
    lock = out_dir / BUILD_LOCK
    what = f"a build into {out_dir}"
    with locks.exclusive(lock, what, holder=f"started by {actor}", field="out"):
        return _locked_build(session, settings, out_dir, exchange, rs_name, actor)


def _locked_build(
    session: Session,
    settings: Settings,
    out_dir: Path,
    exchange: Exchange,
    rs_name: str | None,
    actor: str,
) -> BuildOutcome:
    record = BuildRecord(exchange_id=exchange.id, actor=actor, started_at=utcnow())
    report: BuildReport | None = None
    failure: IxpError | None = None
    try:
        report = build(session, settings, out_dir, rs_name=rs_name, exchange=exchange)
    except IxpError as exc:
        failure = exc
    except Exception as exc:
        session.rollback()
        _record(session, record, None, f"internal error ({type(exc).__name__})")
        raise
    if failure is not None:
        session.rollback()  # whatever the build read is of no use to the record
        log.warning("build by %s failed: %s", actor, failure)
    _record(session, record, report, str(failure) if failure is not None else None)
    return BuildOutcome(_detail(record, None), report, failure)


def _record(
    session: Session, record: BuildRecord, report: BuildReport | None, error: str | None
) -> None:
    """Store ``record`` with the build's report, or with its error."""
    record.finished_at = utcnow()
    record.ok = report is not None
    record.error = error[:_ERROR_LENGTH] if error is not None else None
    if report is not None:
        # As the database gives it back (lists, enum values), whether read now or later.
        record.report = json.loads(json.dumps(report.to_dict()))
        record.route_servers = len(report.route_servers)
        record.members = len({m.asn for rs in report.route_servers for m in rs.members})
        record.size_bytes = _size(report)
    with transaction(session):
        session.add(record)


def list_builds(session: Session, *, limit: int, offset: int) -> tuple[list[BuildSummary], int]:
    """One page of the recorded builds, newest first, and how many there are."""
    query = (
        select(BuildRecord)
        .options(defer(BuildRecord.report))
        .order_by(BuildRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = session.scalar(select(func.count()).select_from(BuildRecord)) or 0
    return [BuildSummary.of(r) for r in session.scalars(query)], total


def show_build(session: Session, build_id: int, *, only_asn: int | None = None) -> BuildDetail:
    """One recorded build with its per-member summary; ``only_asn`` keeps that member's
    lines alone (a member sees its own line, never the others')."""
    record = session.get(BuildRecord, build_id) if 0 < build_id < 2**31 else None
    if record is None:
        raise NotFound("does not exist", field="build", value=build_id)
    return _detail(record, only_asn)
