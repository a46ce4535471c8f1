"""Hourly and daily rows from the 5-minute ones, and how long each resolution is kept.

5-minute rows are kept for ``traffic_keep_5min_days`` (7), hourly rows for
``traffic_keep_hourly_days`` (90), daily rows for ever: what the RRD files exchanges
use today keep, in the database. ``rollup`` computes every hour whose 5-minute rows
are complete and every day whose hours are, with one ``INSERT ... SELECT ... GROUP
BY`` per table that SQLite and PostgreSQL both run, then deletes what has been
rolled up and is older than its retention.

It is idempotent: ``traffic_rollups`` keeps, per resolution, the time before which
its rows are complete, and an hour or day is computed by deleting its rows and
inserting them again from the finer ones. A write into a bucket that was rolled up
already moves that mark back (``ixp.traffic.store.write``), so the next rollup
computes the hour and day again. Writes older than the 5-minute retention are
refused, so a bucket is never recomputed from rows already deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, insert, literal_column, select
from sqlalchemy.orm import Session

from ixp.db import transaction
from ixp.models import TrafficAgent, TrafficPair, TrafficPort, TrafficRollup, TrafficUnknownMac
from ixp.traffic.buckets import BUCKET_SECONDS
from ixp.traffic.store import ROLLED_UP

HOUR, DAY = ROLLED_UP
RESOLUTIONS = (BUCKET_SECONDS, HOUR, DAY)


@dataclass(frozen=True)
class _Shape:
    """How a table rolls up: key columns besides (resolution, start), summed, and kept (max)."""

    model: type[Any]
    keys: tuple[str, ...]
    kept: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        table: Table = self.model.__table__
        return table

    @property
    def summed(self) -> tuple[str, ...]:
        fixed = {"resolution", "start", *self.keys, *self.kept}
        return tuple(c.name for c in self.table.columns if c.name not in fixed)


SHAPES = (
    _Shape(TrafficPair, ("src_asn", "dst_asn")),
    _Shape(TrafficPort, ("agent", "if_index"), kept=("asn",)),
    _Shape(TrafficAgent, ("agent",)),
)


@dataclass(frozen=True)
class RollupResult:
    """What one rollup did: the spans it computed per resolution (start, end; None: none),
    and the rows it deleted as older than their retention, per table."""

    hourly: tuple[int, int] | None
    daily: tuple[int, int] | None
    deleted: dict[str, int]


def done_until(session: Session, resolution: int) -> int:
    """The time (seconds since the epoch) before which rows of ``resolution`` are complete;
    0 when it was never rolled up. 5-minute rows are complete as written."""
    value = session.scalar(
        select(TrafficRollup.done_until).where(TrafficRollup.resolution == resolution)
    )
    return int(value or 0)


def _aligned(value: int, step: int) -> int:
    return value - value % step


def _roll(session: Session, fine: int, coarse: int, until: int) -> tuple[int, int] | None:
    """Compute the ``coarse`` rows of [its mark, ``until``) from the ``fine`` rows."""
    state = session.get(TrafficRollup, coarse)
    if state is None:
        first = session.scalar(
            select(func.min(TrafficPair.start)).where(TrafficPair.resolution == fine)
        )
        for shape in SHAPES[1:]:
            other = session.scalar(
                select(func.min(shape.table.c.start)).where(shape.table.c.resolution == fine)
            )
            if other is not None and (first is None or other < first):
                first = other
        state = TrafficRollup(resolution=coarse, done_until=_aligned(int(first or until), coarse))
        session.add(state)
        session.flush()
    begin, end = state.done_until, _aligned(until, coarse)
    if begin >= end:
        return None
    step: ColumnElement[int] = literal_column(str(int(coarse)))
    for shape in SHAPES:
        table = shape.table
        span = (table.c.start >= begin, table.c.start < end)
        session.execute(delete(table).where(table.c.resolution == coarse, *span))
        bucket = (table.c.start - table.c.start % step).label("start")
        columns: list[ColumnElement[Any]] = [step.label("resolution"), bucket]
        columns += [table.c[name] for name in shape.keys]
        columns += [func.sum(table.c[name]).label(name) for name in shape.summed]
        columns += [func.max(table.c[name]).label(name) for name in shape.kept]
        query = (
            select(*columns)
            .where(table.c.resolution == fine, *span)
            .group_by(table.c.start - table.c.start % step, *(table.c[k] for k in shape.keys))
        )
        names = ["resolution", "start", *shape.keys, *shape.summed, *shape.kept]
        session.execute(insert(table).from_select(names, query))
    state.done_until = end
    return begin, end


def rollup(
    session: Session, *, complete_until: int, now: int, keep_5min_days: int, keep_hourly_days: int
) -> RollupResult:
    """Roll up every hour before ``complete_until`` (the 5-minute rows are complete up to
    there) and every day whose hours are, then delete what is rolled up and older than its
    retention, counted from ``now``; one transaction."""
    with transaction(session):
        hourly = _roll(session, BUCKET_SECONDS, HOUR, complete_until)
        daily = _roll(session, HOUR, DAY, done_until(session, HOUR))
        deleted: dict[str, int] = {}
        horizons = (
            (BUCKET_SECONDS, min(now - keep_5min_days * DAY, done_until(session, HOUR))),
            (HOUR, min(now - keep_hourly_days * DAY, done_until(session, DAY))),
        )
        for resolution, before in horizons:
            for shape in SHAPES:
                table = shape.table
                result = session.execute(
                    delete(table).where(table.c.resolution == resolution, table.c.start < before)
                )
                deleted[table.name] = deleted.get(table.name, 0) + _count(result)
        sightings = session.execute(
            delete(TrafficUnknownMac).where(TrafficUnknownMac.start < now - keep_5min_days * DAY)
        )
        deleted[TrafficUnknownMac.__tablename__] = _count(sightings)
    return RollupResult(hourly, daily, deleted)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
