"""Hourly and daily rows from the 5-minute ones, idempotently, and each resolution's retention."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp.models import TrafficAgent, TrafficPair, TrafficPort, TrafficUnknownMac
from ixp.models.traffic import MacRole
from ixp.traffic import rollup, store

DAY0 = 1_699_920_000  # a midnight, UTC
HOUR, DAY = 3600, 86400
KEEP = {"keep_5min_days": 7, "keep_hourly_days": 90}


def bucket(start: int, size: int) -> store.BucketRows:
    """A bucket with two member pairs, one port and one agent, sized by ``size``."""
    rows = store.BucketRows(start)
    rows.add_pair(1, 2, 4, 1, size, 10 * size)
    rows.add_pair(1, 2, 6, 2, size, 20 * size)
    rows.add_pair(2, 1, 4, 3, size, 30 * size)
    port = rows.ports.setdefault(("192.0.2.1", 7), store.PortRow(asn=1))
    port.counts["in_bytes"] = size
    port.counts["counter_in_octets"] = 2 * size
    rows.agents["192.0.2.1"] = {"datagrams": size, "lost": 1}
    rows.unknown[("02:99:00:00:00:01", MacRole.src, "192.0.2.1", 7)] = [1, 1, size]
    return rows


def totals(session: Session, resolution: int) -> tuple[int, ...]:
    pair = session.execute(
        select(func.count(), func.sum(TrafficPair.bytes4), func.sum(TrafficPair.samples6)).where(
            TrafficPair.resolution == resolution
        )
    ).one()
    port = session.execute(
        select(func.sum(TrafficPort.in_bytes), func.sum(TrafficPort.counter_in_octets),
               func.max(TrafficPort.asn)).where(TrafficPort.resolution == resolution)
    ).one()  # fmt: skip
    agent = session.scalar(
        select(func.sum(TrafficAgent.lost)).where(TrafficAgent.resolution == resolution)
    )
    return (*pair, *port, agent)


def write_day(session: Session, day: int) -> int:
    """A bucket in each hour of one day (at a different 5 minutes of each), and one more in
    its first hour; returns the sum of their sizes."""
    for n in range(24):
        store.write(session, bucket(day + n * HOUR + n % 12 * 300, n + 1))
    store.write(session, bucket(day + 300 * 11, 100))
    return sum(range(1, 25)) + 100


def test_hours_and_days_sum_their_buckets_and_a_second_run_changes_nothing(
    session: Session,
) -> None:
    sizes = write_day(session, DAY0) + write_day(session, DAY0 + DAY)
    done = rollup.rollup(session, complete_until=DAY0 + 2 * DAY, now=DAY0 + 2 * DAY, **KEEP)
    assert (done.hourly, done.daily) == ((DAY0, DAY0 + 2 * DAY), (DAY0, DAY0 + 2 * DAY))
    five = totals(session, 300)
    assert five[0] == 2 * 25 * 2 and five[1] == 40 * sizes
    assert totals(session, HOUR) == (48 * 2, *five[1:])
    assert totals(session, DAY) == (2 * 2, *five[1:])
    again = rollup.rollup(session, complete_until=DAY0 + 2 * DAY, now=DAY0 + 2 * DAY, **KEEP)
    assert (again.hourly, again.daily) == (None, None)
    assert totals(session, DAY) == (4, *five[1:])


def test_only_complete_hours_and_days_are_rolled_up(session: Session) -> None:
    write_day(session, DAY0)
    done = rollup.rollup(session, complete_until=DAY0 + 5 * HOUR + 600, now=DAY0 + DAY, **KEEP)
    assert (done.hourly, done.daily) == ((DAY0, DAY0 + 5 * HOUR), None)
    assert rollup.done_until(session, HOUR) == DAY0 + 5 * HOUR
    assert totals(session, HOUR)[0] == 5 * 2


def test_a_late_write_into_a_rolled_up_hour_is_rolled_up_again(session: Session) -> None:
    write_day(session, DAY0)
    rollup.rollup(session, complete_until=DAY0 + DAY, now=DAY0 + DAY, **KEEP)
    before = totals(session, DAY)
    store.write(session, bucket(DAY0 + 3 * HOUR, 1000))
    assert rollup.done_until(session, HOUR) == DAY0 + 3 * HOUR
    assert rollup.done_until(session, DAY) == DAY0
    done = rollup.rollup(session, complete_until=DAY0 + DAY, now=DAY0 + DAY, **KEEP)
    assert (done.hourly, done.daily) == ((DAY0 + 3 * HOUR, DAY0 + DAY), (DAY0, DAY0 + DAY))
    assert totals(session, DAY)[1] == before[1] + 40 * 1000
    assert totals(session, DAY)[1] == totals(session, 300)[1]


def test_rolled_up_rows_go_after_their_retention_daily_ones_never(session: Session) -> None:
    write_day(session, DAY0)
    day_totals = None
    later = DAY0 + DAY + 8 * DAY
    done = rollup.rollup(session, complete_until=DAY0 + DAY, now=later, **KEEP)
    day_totals = totals(session, DAY)
    assert done.deleted["traffic_pairs"] == 25 * 2
    assert totals(session, 300)[0] == 0 and totals(session, HOUR)[0] == 48
    assert session.scalar(select(func.count()).select_from(TrafficUnknownMac)) == 0
    rollup.rollup(session, complete_until=later, now=DAY0 + 100 * DAY, **KEEP)
    assert totals(session, HOUR)[0] == 0
    assert totals(session, DAY) == day_totals


def test_5_minute_rows_not_rolled_up_yet_are_kept_whatever_their_age(session: Session) -> None:
    write_day(session, DAY0)
    rollup.rollup(session, complete_until=DAY0 + 2 * HOUR, now=DAY0 + 30 * DAY, **KEEP)
    assert totals(session, 300)[0] == (25 - 3) * 2
