"""Member registry data: sync from a source, the safety rules, approval, and reading it back.

A sync fetches every member first and writes all results in one transaction at
the end, so a long bgpq4 run never holds the database and a crash leaves the
previous data in place. Per member, the rules of "never push a dangerous
config" apply: a failed fetch keeps the last good data (and says so); data
that grows or shrinks past ``irr_max_growth_factor``, drops to nothing, or
exceeds ``irr_max_prefixes``, whose address space widens past
``irr_max_space_growth_factor`` or ``irr_max_space_v4/v6``, or that comes from a
dump cut short and differs from the stored data, is stored as *pending* and waits for
``ixp irr approve``; only data within the thresholds replaces the current row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import audit
from ixp.db import transaction
from ixp.errors import IxpError, NotFound
from ixp.irr.prefixes import address_span
from ixp.irr.sources import Bgpq4Source, DumpSource, Fetched, IrrSource
from ixp.irr.types import IrrData, MemberSyncResult, PrefixEntry, SyncOutcome, SyncReport
from ixp.models import IrrDataState, IrrPrefixData, Member, MemberStatus
from ixp.models.base import utcnow
from ixp.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def member_objects(member: Member) -> tuple[str, str]:
    """The registry objects to expand for IPv4 and IPv6: the AS-SETs, or ``AS<asn>``."""
    own = f"AS{member.asn}"
    return (member.as_set_v4 or own).upper(), (member.as_set_v6 or own).upper()


def as_set_label(member: Member) -> str:
    """The member's registry objects as operators read them: one name, or one per family."""
    object_v4, object_v6 = member_objects(member)
    if object_v4 == object_v6:
        return object_v4
    return f"{object_v4} (IPv4), {object_v6} (IPv6)"


def _when(moment: dt.datetime | None) -> str:
    """A timestamp as operators read it in notes and listings (UTC, whole seconds)."""
    return moment.isoformat(timespec="seconds") if moment else "?"


def _entries(stored: dict[str, list[Any]]) -> tuple[PrefixEntry, ...]:
    return tuple(map(PrefixEntry, stored["prefix"], stored["max_length"]))


def _stored(entries: Sequence[PrefixEntry]) -> dict[str, list[Any]]:
    return {"prefix": [e.prefix for e in entries], "max_length": [e.max_length for e in entries]}


def _counts(row: IrrPrefixData | None) -> tuple[int, int]:
    if row is None:
        return 0, 0
    return len(row.prefixes_v4["prefix"]), len(row.prefixes_v6["prefix"])


def _rows(session: Session, member_ids: Sequence[int]) -> dict[int, dict[str, IrrPrefixData]]:
    rows: dict[int, dict[str, IrrPrefixData]] = {}
    if not member_ids:
        return rows
    query = select(IrrPrefixData).where(IrrPrefixData.member_id.in_(member_ids))
    for row in session.scalars(query):
        rows.setdefault(row.member_id, {})[row.state.value] = row
    return rows


def _to_data(current: IrrPrefixData | None, pending: IrrPrefixData | None) -> IrrData | None:
    if current is None and pending is None:
        return None
    notes: list[str] = []
    if current is None:
        assert pending is not None
        notes.append(f"first registry data held for approval: {pending.note}")
        return IrrData(pending.as_set, (), (), (), None, pending.source, True, "; ".join(notes))
    if current.note:
        notes.append(current.note)
    if current.last_error:
        notes.append(
            f"last sync at {_when(current.last_attempt_at)} failed ({current.last_error}); "
            f"keeping data fetched at {_when(current.fetched_at)}"
        )
    if pending is not None:
        notes.append(f"newer data held for approval: {pending.note}")
    return IrrData(
        as_set=current.as_set,
        asns=tuple(current.asns),
        v4=_entries(current.prefixes_v4),
        v6=_entries(current.prefixes_v6),
        fetched_at=current.fetched_at,
        source=current.source,
        held=pending is not None,
        note="; ".join(notes) or None,
    )


def irr_for_member(session: Session, member: Member) -> IrrData | None:
    """The registry data the route server should use for ``member``; None if never synced."""
    return irr_for_members(session, [member])[member.id]


def irr_for_members(session: Session, members: Sequence[Member]) -> dict[int, IrrData | None]:
    """``irr_for_member`` for many members in one query, keyed by member id."""
    rows = _rows(session, [m.id for m in members])
    result: dict[int, IrrData | None] = {}
    for member in members:
        states = rows.get(member.id, {})
        result[member.id] = _to_data(states.get("current"), states.get("pending"))
    return result


Entries = tuple[tuple[PrefixEntry, ...], tuple[PrefixEntry, ...]]


def hold_reasons(old: Entries | None, new: Entries, settings: Settings) -> list[str]:
    """Why new prefix lists (IPv4, IPv6) must wait for an operator; empty if they need not.

    Counted twice, in prefixes and in addresses, because one wide object can
    open a filter more than a thousand narrow ones. Count ratios are not applied
    while both counts are below ``irr_hold_min_prefixes`` (a member going from 1
    to 9 prefixes is ordinary), but a drop to zero always holds: an empty filter
    is exactly what must never appear silently.
    """
    reasons = []
    for family, before, after in zip((4, 6), old or (None, None), new, strict=True):
        reasons += _count_reasons(family, before, after, settings)
        reasons += _space_reasons(family, before, after, settings)
    return reasons


def _count_reasons(
    family: int,
    before_entries: tuple[PrefixEntry, ...] | None,
    after_entries: tuple[PrefixEntry, ...],
    settings: Settings,
) -> list[str]:
    factor = settings.irr_max_growth_factor
    name = f"IPv{family}"
    after = len(after_entries)
    reasons = []
    if after > settings.irr_max_prefixes:
        reasons.append(f"{name} {after} prefixes is over irr_max_prefixes")
    before = len(before_entries) if before_entries else 0
    if before == 0:
        return reasons
    if after == 0:
        reasons.append(f"{name} would drop from {before} prefixes to none")
    elif max(before, after) < settings.irr_hold_min_prefixes:
        pass
    elif after > before * factor:
        reasons.append(f"{name} grows from {before} to {after} prefixes (over x{factor:g})")
    elif after * factor < before:
        reasons.append(f"{name} shrinks from {before} to {after} prefixes (over /{factor:g})")
    return reasons


def _space_reasons(
    family: int,
    before_entries: tuple[PrefixEntry, ...] | None,
    after_entries: tuple[PrefixEntry, ...],
    settings: Settings,
) -> list[str]:
    bits = 32 if family == 4 else 128
    name = f"IPv{family}"
    after = address_span(family, after_entries)
    before = None if before_entries is None else address_span(family, before_entries)
    reasons = []
    limit_length = settings.irr_max_space_v4 if family == 4 else settings.irr_max_space_v6
    limit = 1 << (bits - limit_length)
    if after > limit and (before is None or before <= limit):
        reasons.append(
            f"{name} covers {after:,} addresses, more than a /{limit_length} "
            f"(irr_max_space_v{family})"
        )
    factor = settings.irr_max_space_growth_factor
    floor_length = (
        settings.irr_space_growth_floor_v4 if family == 4 else settings.irr_space_growth_floor_v6
    )
    if before and after > before * factor and after - before > 1 << (bits - floor_length):
        reasons.append(
            f"{name} address space grows from {before:,} to {after:,} addresses "
            f"(over x{factor:g} and more than a /{floor_length})"
        )
    return reasons


def _fill(row: IrrPrefixData, as_set: str, fetched: Fetched, source: str) -> None:
    now = utcnow()
    row.as_set = as_set
    row.asns = list(fetched.asns)
    row.prefixes_v4 = _stored(fetched.v4)
    row.prefixes_v6 = _stored(fetched.v6)
    row.fetched_at = now
    row.source = source[:300]
    row.last_attempt_at = now
    row.last_error = None


def _apply(
    session: Session,
    settings: Settings,
    member: Member,
    rows: dict[str, IrrPrefixData],
    result: Fetched | IxpError,
    source: str,
) -> MemberSyncResult:
    """Store one member's fetch result under the safety rules; returns what happened."""
    as_set = as_set_label(member)
    current, pending = rows.get("current"), rows.get("pending")

    def outcome(kind: SyncOutcome, note: str | None) -> MemberSyncResult:
        return MemberSyncResult(member.asn, as_set, kind, *_counts(current), note)

    if isinstance(result, IxpError):
        if current is None:
            return outcome(SyncOutcome.failed, f"no registry data: {result}")
        current.last_attempt_at = utcnow()
        current.last_error = str(result)
        return outcome(
            SyncOutcome.failed,
            f"{result}; keeping data fetched at {_when(current.fetched_at)}",
        )
    notes = list(result.notes)
    if not result.v4 and not result.v6:
        notes.append(f"{as_set}: no route or route6 objects for any of its ASNs")
    note = "; ".join(notes) or None
    old = (_entries(current.prefixes_v4), _entries(current.prefixes_v6)) if current else None
    reasons = hold_reasons(old, (result.v4, result.v6), settings)
    if result.doubts and (old is None or old != (result.v4, result.v6)):
        reasons += result.doubts
    if reasons:
        if pending is None:
            pending = IrrPrefixData(member_id=member.id, state=IrrDataState.pending)
            session.add(pending)
        _fill(pending, as_set, result, source)
        pending.note = "; ".join([*reasons, *notes])
        if current is not None:
            current.last_attempt_at = pending.last_attempt_at
            current.last_error = None
        return outcome(SyncOutcome.held, pending.note)
    if pending is not None:
        session.delete(pending)
    if current is None:
        current = IrrPrefixData(member_id=member.id, state=IrrDataState.current)
        session.add(current)
        kind = SyncOutcome.ok
    else:
        same = (
            current.as_set == as_set
            and current.asns == list(result.asns)
            and current.prefixes_v4 == _stored(result.v4)
            and current.prefixes_v6 == _stored(result.v6)
        )
        kind = SyncOutcome.unchanged if same else SyncOutcome.ok
    _fill(current, as_set, result, source)
    current.note = note
    return outcome(kind, note)


def _open_source(settings: Settings, rpsl_files: Sequence[Path] | None) -> IrrSource:
    if rpsl_files:
        return DumpSource(settings, rpsl_files)
    return Bgpq4Source(settings)


def syncable_members(session: Session) -> list[Member]:
    """Every member that has or may get sessions (all but departed), in ASN order."""
    query = select(Member).where(Member.status != MemberStatus.departed).order_by(Member.asn)
    return list(session.scalars(query))


def _fetch_one(source: IrrSource, objects: tuple[str, str]) -> Fetched | IxpError:
    try:
        return source.fetch(*objects)
    except IxpError as exc:
        log.warning("%s: registry fetch failed: %s", objects[0], exc)
        return exc


def _fetch_all(
    source: IrrSource, objects: Sequence[tuple[str, str]], progress: Progress | None
) -> list[Fetched | IxpError]:
    """Every member's fetch result (or error), in input order, ``source.workers`` at a time.

    A single-worker source runs in this thread (its SQLite connection belongs here).
    """
    results: list[Fetched | IxpError] = []
    with ExitStack() as stack:
        if source.workers > 1:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=source.workers))
            answers = pool.map(lambda pair: _fetch_one(source, pair), objects)
        else:
            answers = (_fetch_one(source, pair) for pair in objects)
        for result in answers:
            results.append(result)
            if progress is not None:
                progress(len(results), len(objects))
    return results


def sync(
    session: Session,
    settings: Settings,
    *,
    members: Sequence[Member] | None = None,
    rpsl_files: Sequence[Path] | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Refresh the registry data of ``members`` (default: all but departed) from the source.

    The source is the RPSL dumps in ``rpsl_files`` if given, otherwise bgpq4
    against ``settings.irr_server``. Opening the dumps can fail as a whole
    (``SourceUnavailable``) before anything is touched.
    """
    targets = list(members) if members is not None else syncable_members(session)
    source = _open_source(settings, rpsl_files)
    try:
        fetched = _fetch_all(source, [member_objects(m) for m in targets], progress)
    finally:
        source.close()
    rows = _rows(session, [m.id for m in targets])
    with transaction(session):
        results = [
            _apply(session, settings, member, rows.get(member.id, {}), result, source.description)
            for member, result in zip(targets, fetched, strict=True)
        ]
    results.sort(key=lambda r: r.asn)
    return SyncReport(source=source.description, results=tuple(results))


def approve(session: Session, member: Member, *, actor: str) -> IrrData:
    """Make ``member``'s held registry data current (an operator checked it)."""
    rows = _rows(session, [member.id]).get(member.id, {})
    pending, current = rows.get("pending"), rows.get("current")
    if pending is None:
        raise NotFound(f"asn: AS{member.asn} has no registry data held for approval")
    before = _snapshot(_to_data(current, None))
    with transaction(session):
        if current is not None:
            session.delete(current)
            session.flush()
        pending.state = IrrDataState.current
        pending.note = f"approved by {actor}: {pending.note}"
        after = _snapshot(_to_data(pending, None))
        audit.record(
            session,
            actor=actor,
            action="approve",
            entity="irr",
            key=f"AS{member.asn}",
            before=before,
            after=after,
        )
    data = _to_data(pending, None)
    assert data is not None
    return data


def _snapshot(data: IrrData | None) -> dict[str, Any] | None:
    """Counts and provenance of a member's data as the audit log records them."""
    if data is None:
        return None
    return {
        "as_set": data.as_set,
        "asns": len(data.asns),
        "prefixes_v4": len(data.v4),
        "prefixes_v6": len(data.v6),
        "fetched_at": _when(data.fetched_at) if data.fetched_at else None,
        "source": data.source,
        "held": data.held,
        "note": data.note,
    }


@dataclass(frozen=True)
class HeldIrrData:
    """Registry data a sync fetched but held for an operator: what approving it would bring."""

    as_set: str
    asns: int
    prefixes_v4: int
    prefixes_v6: int
    fetched_at: dt.datetime | None
    source: str
    reason: str | None

    @classmethod
    def of(cls, row: IrrPrefixData) -> HeldIrrData:
        """The view of a pending row."""
        v4, v6 = _counts(row)
        return cls(row.as_set, len(row.asns), v4, v6, row.fetched_at, row.source, row.note)


@dataclass(frozen=True)
class IrrStatus:
    """A member's registry data in use, in counts: ``synced`` is False (and the rest empty)
    until a sync stored something; ``asns`` counts the ASNs its AS-SET expands to;
    ``pending`` is the newer data held for approval, if any."""

    asn: int
    synced: bool
    as_set: str | None
    asns: int
    prefixes_v4: int
    prefixes_v6: int
    fetched_at: dt.datetime | None
    source: str | None
    held: bool
    note: str | None
    pending: HeldIrrData | None


@dataclass(frozen=True)
class IrrDetail(IrrStatus):
    """``IrrStatus`` with the ASNs and the prefixes themselves (``ixp irr show``)."""

    asn_list: tuple[int, ...]
    v4: tuple[PrefixEntry, ...]
    v6: tuple[PrefixEntry, ...]


def _detail(asn: int, current: IrrPrefixData | None, pending: IrrPrefixData | None) -> IrrDetail:
    data = _to_data(current, pending)
    held = HeldIrrData.of(pending) if pending is not None else None
    if data is None:
        return IrrDetail(asn, False, None, 0, 0, 0, None, None, False, None, held, (), (), ())
    return IrrDetail(
        asn=asn,
        synced=True,
        as_set=data.as_set,
        asns=len(data.asns),
        prefixes_v4=len(data.v4),
        prefixes_v6=len(data.v6),
        fetched_at=data.fetched_at,
        source=data.source,
        held=data.held,
        note=data.note,
        pending=held,
        asn_list=data.asns,
        v4=data.v4,
        v6=data.v6,
    )


def irr_detail(session: Session, member: Member) -> IrrDetail:
    """Everything about ``member``'s registry data: in use, and held for approval."""
    rows = _rows(session, [member.id]).get(member.id, {})
    return _detail(member.asn, rows.get("current"), rows.get("pending"))


def irr_status(session: Session, member: Member) -> IrrStatus:
    """``irr_detail`` in counts only (a member may have a hundred thousand prefixes)."""
    detail = irr_detail(session, member)
    return IrrStatus(**{f.name: getattr(detail, f.name) for f in fields(IrrStatus)})
