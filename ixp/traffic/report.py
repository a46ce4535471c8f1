"""What the stored traffic says: the service functions the CLI, the API and the portal share.

Every figure is an ``Estimate``: bytes scaled from samples, with the number of samples
behind it, the 95% confidence interval (``ixp.traffic.sampling``) and ``thin`` set
when the error is larger than ``traffic_max_error``. Periods are whole UTC days,
[``since``, ``until``); each is read from the coarsest rows that are complete for it
(daily, then hourly, then 5-minute rows, see ``spans``), so a report over a year and
one over this morning read few rows and agree with each other.

- ``daily``: traffic kept local per day, overall or for one member (sent, received).
- ``members`` and ``pairs``: the top members and member pairs; ``matrix``: the
  peering matrix of the largest members (the portal's heat map).
- ``local_shares``: per member and month, local ÷ (local + international), or
  local ÷ total, from the entered figures (``ixp.traffic.international``), with the
  interval the sampling error gives; members without a figure are listed as such.
- ``opportunity``: the country's largest networks by delegated address space
  (the monitor's reachability data) that do not reach the exchange.
- ``counter_check``: ports whose sampled estimate strays from their interface
  counters beyond its interval; ``double_counting``: samples not taken at ingress
  and frames seen again at a second agent; ``agents``: lost datagrams and dropped
  samples per agent; ``unknown_macs``.

Members are shown by ASN with their current name; a member that has left keeps its
traffic under its ASN (``name`` None).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ixp.errors import Problems, ValidationError
from ixp.exchange import get_exchange
from ixp.models import (
    Member,
    RirDelegation,
    TrafficAgent,
    TrafficInternational,
    TrafficPair,
    TrafficPort,
    TrafficUnknownMac,
)
from ixp.monitor import reach
from ixp.traffic import international, sampling
from ixp.traffic.buckets import BUCKET_SECONDS
from ixp.traffic.rollup import DAY, HOUR, done_until

Span = tuple[int, int, int]  # (resolution, start, end)
_ONE_DAY = dt.timedelta(days=1)
_FIRST_DAY = dt.date(1970, 1, 1)  # no traffic is older than the epoch its buckets count from


@dataclass(frozen=True)
class Estimate:
    """Bytes estimated from ``samples`` samples, with the 95% confidence interval (``high``
    None: no samples, so no upper bound)."""

    bytes: int
    samples: int
    low: int
    high: int | None
    thin: bool  # the error is larger than traffic_max_error: too few samples to read

    @classmethod
    def of(cls, size: int, samples: int, max_error: float) -> Estimate:
        """The estimate of ``size`` bytes from ``samples`` samples (PostgreSQL sums bigints
        as decimals: both are taken as ints)."""
        size, samples = int(size), int(samples)
        low, high = sampling.interval(size, samples)
        error = sampling.relative_error(samples)
        bound = None if math.isinf(high) else round(high)
        return cls(int(size), int(samples), round(low), bound, error > max_error)


@dataclass(frozen=True)
class Period:
    """Whole UTC days [since, until)."""

    since: dt.date
    until: dt.date

    @classmethod
    def of(cls, since: dt.date | None, until: dt.date | None, today: dt.date) -> Period:
        """The days asked for; by default the 30 days up to and including today. A day
        before 1970 or more than a year ahead is refused: nothing was measured then, and
        arithmetic on such dates overflows."""
        latest = today + dt.timedelta(days=366)
        for name, day in (("since", since), ("until", until)):
            if day is not None:
                _check_day(day, name, latest)
        end = until or today + dt.timedelta(days=1)
        start = since or end - dt.timedelta(days=30)
        if start >= end:
            raise ValidationError("since", start.isoformat(), f"is not before until ({end})")
        return cls(start, end)

    @property
    def start(self) -> int:
        """``since`` in seconds since the epoch."""
        return _epoch(self.since)

    @property
    def end(self) -> int:
        """``until`` in seconds since the epoch."""
        return _epoch(self.until)

    @classmethod
    def asked(cls, since: str | None, until: str | None, today: dt.date) -> Period:
        """The days from ``since`` to ``until`` included as a person types them
        (``YYYY-MM-DD``; empty: ``of``'s default), as the portal's period form sends them."""
        latest = today + dt.timedelta(days=366)
        problems = Problems()
        first = problems.check(_typed_day, since, "since", latest)
        last = problems.check(_typed_day, until, "until", latest - _ONE_DAY)
        problems.raise_any()
        return cls.including(first, last, today)

    @classmethod
    def including(cls, first: dt.date | None, last: dt.date | None, today: dt.date) -> Period:
        """The days from ``first`` to ``last`` included (None: ``of``'s default), as the
        API's ``since`` and ``until`` give them. Every bad field is named at once, before
        any arithmetic (a last day of 9999-12-31 has no day after it), and a last day
        before the first is refused in those words, not in those of the exclusive end a
        ``Period`` keeps."""
        latest = today + dt.timedelta(days=366)
        problems = Problems()
        for name, day, bound in (("since", first, latest), ("until", last, latest - _ONE_DAY)):
            if day is not None:
                problems.check(_check_day, day, name, bound)
        problems.raise_any()
        if first is not None and last is not None and first > last:
            raise ValidationError("since", first.isoformat(), f"is after until ({last})")
        return cls.of(first, last + _ONE_DAY if last is not None else None, today)


def _check_day(day: dt.date, name: str, latest: dt.date) -> dt.date:
    """``day`` if it lies between 1970 and ``latest``: nothing was measured before, and
    arithmetic on dates far ahead overflows."""
    if not _FIRST_DAY <= day <= latest:
        raise ValidationError(name, day.isoformat(), f"is outside {_FIRST_DAY} to {latest}")
    return day


def _typed_day(text: str | None, name: str, latest: dt.date) -> dt.date | None:
    """A day typed as ``YYYY-MM-DD`` (None: left empty), between 1970 and ``latest``."""
    if text is None or not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(name, text, "is not a date (YYYY-MM-DD)") from None
    return _check_day(day, name, latest)


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _day(epoch: int) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).date()


def spans(session: Session, start: int, end: int) -> list[Span]:
    """Which rows cover [start, end) (day-aligned): daily rows up to where the daily rollup
    is complete, hourly rows up to where the hourly one is, 5-minute rows after that."""
    daily, hourly = done_until(session, DAY), done_until(session, HOUR)
    found = []
    edge = start
    for resolution, complete in ((DAY, daily), (HOUR, hourly), (BUCKET_SECONDS, end)):
        stop = min(end, max(edge, complete - complete % resolution))
        if edge < stop:
            found.append((resolution, edge, stop))
            edge = stop
    return found


def _within(table: Any, covered: Sequence[Span]) -> ColumnElement[bool]:
    """Rows of ``table`` in the spans: each span at its own resolution."""
    if not covered:
        return literal_column("1") == literal_column("0")
    return or_(
        *(
            and_(table.c.resolution == resolution, table.c.start >= begin, table.c.start < stop)
            for resolution, begin, stop in covered
        )
    )


def _names(session: Session, asns: Iterable[int]) -> dict[int, str]:
    """Current display names of those ASNs that are members."""
    wanted = set(asns)
    if not wanted:
        return {}
    exchange = get_exchange(session)
    rows = session.execute(
        select(Member.asn, Member.display_name).where(
            Member.exchange_id == exchange.id, Member.asn.in_(wanted)
        )
    )
    return {int(asn): value for asn, value in rows}


_PAIRS: Any = TrafficPair.__table__
_PORTS: Any = TrafficPort.__table__
_AGENTS: Any = TrafficAgent.__table__
_BYTES = _PAIRS.c.bytes4 + _PAIRS.c.bytes6
_SAMPLES = _PAIRS.c.samples4 + _PAIRS.c.samples6


# -- local traffic per day ------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """One day's traffic over the fabric: overall, or one member's sent and received."""

    day: dt.date
    local: Estimate  # between members (overall), or the member's sent + received
    ipv6_bytes: int
    sent: Estimate | None  # a member's only
    received: Estimate | None


def daily(session: Session, period: Period, max_error: float, asn: int | None = None) -> list[Day]:
    """Bytes exchanged over the fabric per day of ``period``: between all members, or those
    member ``asn`` sent and received. Days without any traffic are left out."""
    covered = spans(session, period.start, period.end)
    day = (_PAIRS.c.start - _PAIRS.c.start % literal_column(str(DAY))).label("day")
    sums = (func.sum(_BYTES), func.sum(_SAMPLES), func.sum(_PAIRS.c.bytes6))
    if asn is None:
        query = select(day, *sums).where(_within(_PAIRS, covered)).group_by(day).order_by(day)
        return [
            Day(_day(epoch), Estimate.of(size, samples, max_error), int(v6), None, None)
            for epoch, size, samples, v6 in session.execute(query)
        ]
    found: dict[int, list[int]] = {}
    for column, offset in ((_PAIRS.c.src_asn, 0), (_PAIRS.c.dst_asn, 3)):
        query = select(day, *sums).where(_within(_PAIRS, covered), column == asn).group_by(day)
        for epoch, size, samples, v6 in session.execute(query):
            counts = found.setdefault(int(epoch), [0] * 6)
            counts[offset : offset + 3] = [int(size), int(samples), int(v6)]
    days = []
    for epoch, (sent, sent_samples, sent6, got, got_samples, got6) in sorted(found.items()):
        days.append(
            Day(
                _day(epoch),
                Estimate.of(sent + got, sent_samples + got_samples, max_error),
                sent6 + got6,
                Estimate.of(sent, sent_samples, max_error),
                Estimate.of(got, got_samples, max_error),
            )
        )
    return days


# -- members, pairs, the matrix -------------------------------------------------------------


@dataclass(frozen=True)
class MemberTraffic:
    """A member's traffic over the fabric in a period."""

    asn: int
    name: str | None
    sent: Estimate
    received: Estimate
    total: Estimate
    peers: int  # members it exchanged traffic with, either way


@dataclass(frozen=True)
class PairTraffic:
    """What one member sent another in a period."""

    src_asn: int
    src_name: str | None
    dst_asn: int
    dst_name: str | None
    traffic: Estimate
    ipv6_bytes: int


def _member_sums(
    session: Session, covered: Sequence[Span], asns: Collection[int] | None
) -> dict[int, list[Any]]:
    """ASN -> [sent, sent samples, received, received samples, peers]."""
    found: dict[int, list[Any]] = {}
    for column, other, offset in (
        (_PAIRS.c.src_asn, _PAIRS.c.dst_asn, 0),
        (_PAIRS.c.dst_asn, _PAIRS.c.src_asn, 2),
    ):
        query = select(column, other, func.sum(_BYTES), func.sum(_SAMPLES)).where(
            _within(_PAIRS, covered)
        )
        if asns is not None:
            query = query.where(column.in_(list(asns)))
        for asn, peer, size, samples in session.execute(query.group_by(column, other)):
            sums = found.setdefault(int(asn), [0, 0, 0, 0, set()])
            sums[offset] += int(size)
            sums[offset + 1] += int(samples)
            sums[4].add(int(peer))
    return found


def members(
    session: Session,
    period: Period,
    max_error: float,
    *,
    asn: int | None = None,
    top: int | None = None,
) -> list[MemberTraffic]:
    """Members by their traffic over the fabric (sent + received), largest first; ``asn``
    keeps one member, ``top`` the first so many."""
    covered = spans(session, period.start, period.end)
    sums = _member_sums(session, covered, None if asn is None else [asn])
    names = _names(session, sums)
    rows = [
        MemberTraffic(
            number,
            names.get(number),
            Estimate.of(sent, sent_samples, max_error),
            Estimate.of(got, got_samples, max_error),
            Estimate.of(sent + got, sent_samples + got_samples, max_error),
            len(peers),
        )
        for number, (sent, sent_samples, got, got_samples, peers) in sums.items()
    ]
    rows.sort(key=lambda row: (-row.total.bytes, row.asn))
    return rows[:top]


def pairs(
    session: Session,
    period: Period,
    max_error: float,
    *,
    asn: int | None = None,
    top: int | None = 20,
) -> list[PairTraffic]:
    """Member pairs by bytes, largest first; ``asn`` keeps the pairs it is part of."""
    covered = spans(session, period.start, period.end)
    total = func.sum(_BYTES)
    query = select(
        _PAIRS.c.src_asn, _PAIRS.c.dst_asn, total, func.sum(_SAMPLES), func.sum(_PAIRS.c.bytes6)
    ).where(_within(_PAIRS, covered))
    if asn is not None:
        query = query.where(or_(_PAIRS.c.src_asn == asn, _PAIRS.c.dst_asn == asn))
    query = (
        query.group_by(_PAIRS.c.src_asn, _PAIRS.c.dst_asn)
        .order_by(total.desc(), _PAIRS.c.src_asn, _PAIRS.c.dst_asn)
        .limit(top)
    )
    found = session.execute(query).all()
    names = _names(session, {row[0] for row in found} | {row[1] for row in found})
    return [
        PairTraffic(
            int(src), names.get(src), int(dst), names.get(dst),
            Estimate.of(size, samples, max_error), int(v6),
        )
        for src, dst, size, samples, v6 in found
    ]  # fmt: skip


@dataclass(frozen=True)
class Matrix:
    """The peering matrix of some members: ``cells[i][j]`` bytes member i sent member j."""

    asns: tuple[int, ...]
    names: tuple[str | None, ...]
    cells: tuple[tuple[int, ...], ...]
    samples: tuple[tuple[int, ...], ...]


def matrix(session: Session, period: Period, *, top: int = 20, asn: int | None = None) -> Matrix:
    """The ``top`` members by traffic and what each sent each other (the heat map); with
    ``asn``, that member's row and column only (against every member it exchanged with)."""
    covered = spans(session, period.start, period.end)
    if asn is None:
        ranked = [m.asn for m in members(session, period, 1.0, top=top)]
    else:
        partners = _member_sums(session, covered, [asn]).get(asn, [0, 0, 0, 0, set()])[4]
        ranked = [asn, *sorted(partners - {asn})]
    position = {number: index for index, number in enumerate(ranked)}
    cells = [[0] * len(ranked) for _ in ranked]
    samples = [[0] * len(ranked) for _ in ranked]
    if ranked:
        query = (
            select(_PAIRS.c.src_asn, _PAIRS.c.dst_asn, func.sum(_BYTES), func.sum(_SAMPLES))
            .where(
                _within(_PAIRS, covered),
                _PAIRS.c.src_asn.in_(ranked),
                _PAIRS.c.dst_asn.in_(ranked),
            )
            .group_by(_PAIRS.c.src_asn, _PAIRS.c.dst_asn)
        )
        for src, dst, size, count in session.execute(query):
            if asn is not None and asn not in (src, dst):
                continue
            cells[position[src]][position[dst]] = int(size)
            samples[position[src]][position[dst]] = int(count)
    names = _names(session, ranked)
    return Matrix(
        tuple(ranked),
        tuple(names.get(number) for number in ranked),
        tuple(tuple(row) for row in cells),
        tuple(tuple(row) for row in samples),
    )


# -- local share ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """A member's local share of one month (``asn`` None: the exchange's, over the members
    with a figure). ``status``: ``measured``; ``no-figure`` (nothing entered: no share,
    never a guess); ``inconsistent`` (a total below the measured local traffic)."""

    asn: int | None
    name: str | None
    month: str
    local: Estimate  # sent + received over the fabric
    kind: str | None  # international or total, as entered
    figure_bytes: int | None
    share: float | None
    low: float | None
    high: float | None
    status: str
    days_measured: int  # days of the month with traffic stored (fewer: a partial month)
    members: int | None = None  # the exchange's: members with a figure
    members_without: int | None = None  # the exchange's: members with traffic but no figure


def _months(period: Period) -> list[tuple[str, int, int]]:
    """(YYYY-MM, start, end) of each month the period touches, clipped to it."""
    found = []
    day = period.since.replace(day=1)
    while day < period.until:
        following = (day + dt.timedelta(days=32)).replace(day=1)
        begin, end = max(day, period.since), min(following, period.until)
        found.append((f"{day:%Y-%m}", _epoch(begin), _epoch(end)))
        day = following
    return found


def _with_data(session: Session, period: Period) -> Period:
    """``period`` from the first month anything was measured or entered: a period that
    starts in 1954 must not cost a round of queries for every empty month since."""
    measured = session.scalar(select(func.min(_PAIRS.c.start)))
    entered = session.scalar(select(func.min(TrafficInternational.month)))
    firsts = [dt.datetime.fromtimestamp(measured, dt.UTC).date()] if measured is not None else []
    if entered is not None:
        firsts.append(dt.date.fromisoformat(f"{entered}-01"))
    if not firsts:
        return Period(period.until, period.until)
    return Period(max(period.since, min(firsts).replace(day=1)), period.until)


def _share(local: Estimate, kind: str | None, figure: int | None) -> tuple[Any, ...]:
    """(share, low, high, status) of a member's month."""
    if kind is None or figure is None:
        return None, None, None, "no-figure"
    if kind == "total":
        if figure <= 0 or local.low > figure:
            return None, None, None, "inconsistent"
        high = 1.0 if local.high is None else min(1.0, local.high / figure)
        return local.bytes / figure, local.low / figure, high, "measured"
    whole = local.bytes + figure
    if whole <= 0:
        return None, None, None, "no-figure"
    high = 1.0 if local.high is None else local.high / (local.high + figure)
    low = local.low / (local.low + figure) if local.low + figure else 0.0
    return local.bytes / whole, low, high, "measured"


def local_shares(
    session: Session, period: Period, max_error: float, *, asn: int | None = None
) -> list[Share]:
    """Per month of ``period`` with traffic or figures: the exchange's share first (over the
    members with a figure), then each member's (one member with ``asn``: its own only).
    Members with traffic but no figure are listed with status ``no-figure``."""
    shares: list[Share] = []
    for month, begin, end in _months(_with_data(session, period)):
        covered = spans(session, begin, end)
        sums = _member_sums(session, covered, None if asn is None else [asn])
        entered = {
            figure.asn: figure for figure in international.figures(session, asn=asn, months=[month])
        }
        if not sums and not entered:
            continue  # nothing measured or entered: the month has nothing to say
        names = _names(session, set(sums) | set(entered))
        day = (_PAIRS.c.start - _PAIRS.c.start % literal_column(str(DAY))).label("day")
        days = session.scalar(
            select(func.count(func.distinct(day))).where(_within(_PAIRS, covered))
        )
        rows = []
        totals = [0, 0, 0]  # local bytes, samples, international bytes of members with figures
        for number in sorted(set(sums) | set(entered)):
            sent, sent_samples, got, got_samples, _ = sums.get(number, [0, 0, 0, 0, set()])
            local = Estimate.of(sent + got, sent_samples + got_samples, max_error)
            figure = entered.get(number)
            kind = str(figure.kind) if figure is not None else None
            size = figure.bytes if figure is not None else None
            share, low, high, status = _share(local, kind, size)
            rows.append(
                Share(number, names.get(number), month, local, kind, size, share, low, high,
                      status, int(days or 0))
            )  # fmt: skip
            if status == "measured" and size is not None:
                totals[0] += local.bytes
                totals[1] += local.samples
                totals[2] += size - local.bytes if kind == "total" else size
        if asn is None:
            local = Estimate.of(totals[0], totals[1], max_error)
            counted = sum(1 for row in rows if row.status == "measured")
            share, low, high, status = (
                _share(local, "international", totals[2])
                if counted
                else (None,) * 3 + ("no-figure",)
            )
            shares.append(
                Share(None, None, month, local, "international" if counted else None,
                      totals[2] if counted else None, share, low, high, status, int(days or 0),
                      counted, sum(1 for row in rows if row.status == "no-figure"))
            )  # fmt: skip
        shares.extend(rows)
    return shares


# -- opportunity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """A network of the country (the holder of delegations, by the RIR's opaque id)."""

    holder: str
    asns: tuple[int, ...]
    ipv4_addresses: int
    ipv6_48s: int


@dataclass(frozen=True)
class Opportunity:
    """The country's largest networks by address space that do not reach the exchange.

    A network reaches it when one of its ASNs is a member or, given ``origins``, originates
    a route the route servers carry. ``basis`` says which of the two was known."""

    country: str
    basis: str
    networks: tuple[Network, ...]
    reached: int  # networks of the country that reach the exchange
    total: int


def opportunity(
    session: Session, *, origins: Collection[int] | None = None, top: int = 20
) -> Opportunity:
    """The largest networks of the exchange's country (delegated IPv4 addresses, then IPv6
    /48s) none of whose ASNs is a member or originates a route in ``origins``."""
    exchange = get_exchange(session)
    country = exchange.country.upper()
    delegations = session.scalars(
        select(RirDelegation).where(
            RirDelegation.country == country, RirDelegation.status.in_(reach.COUNTED_STATUSES)
        )
    ).all()
    held: dict[str, list[RirDelegation]] = {}
    for item in delegations:
        held.setdefault(item.opaque_id or f"{item.rir}:{item.kind}:{item.start}", []).append(item)
    member_asns = set(
        session.scalars(select(Member.asn).where(Member.exchange_id == exchange.id)).all()
    )
    reaching = member_asns | set(origins or ())
    networks = []
    reached = 0
    for holder, items in held.items():
        resources = reach.CountryResources.of(country, items)
        asns = tuple(sorted(resources.asns))
        if reaching.intersection(asns):
            reached += 1
            continue
        networks.append(
            Network(holder, asns, reach.size(resources.ipv4), reach.size(resources.ipv6))
        )
    networks.sort(key=lambda n: (-n.ipv4_addresses, -n.ipv6_48s, n.holder))
    basis = "members' ASNs and the routes' origins" if origins is not None else "members' ASNs"
    return Opportunity(country, basis, tuple(networks[:top]), reached, len(held))


# -- health: counters, double counting, agents, unknown MACs ---------------------------------


@dataclass(frozen=True)
class PortCheck:
    """A port's sampled estimate against its interface counters over the same time."""

    agent: str
    if_index: int
    asn: int | None
    direction: str  # in (entering the fabric) or out
    sampled: Estimate
    counted: int  # the counters' bytes, scaled to the whole time the estimate covers
    deviation: float | None  # sampled / counted - 1 (None: the counters did not grow)
    strays: bool  # counted lies outside the interval widened by traffic_counter_tolerance


def counter_check(
    session: Session,
    period: Period,
    max_error: float,
    tolerance: float,
    *,
    asn: int | None = None,
    strays_only: bool = True,
) -> list[PortCheck]:
    """Ports whose sampled bytes stray from their counters (all ports: ``strays_only`` off).

    Read from the 5-minute rows, so it covers the part of ``period`` in the last
    ``traffic_keep_5min_days``: only there is each bucket's counter growth known apart,
    and scaled from the milliseconds it spans to the bucket's 300 seconds (a rolled-up
    row cannot say how many of its buckets had samples). Buckets without counter
    readings are left out on both sides."""
    covered = [(BUCKET_SECONDS, period.start, period.end)]
    scale = literal_column(f"{BUCKET_SECONDS * 1000}.0") / _PORTS.c.counter_ms
    query = (
        select(
            _PORTS.c.agent, _PORTS.c.if_index, func.max(_PORTS.c.asn),
            func.sum(_PORTS.c.in_bytes), func.sum(_PORTS.c.in_samples),
            func.sum(_PORTS.c.counter_in_octets * scale),
            func.sum(_PORTS.c.out_bytes), func.sum(_PORTS.c.out_samples),
            func.sum(_PORTS.c.counter_out_octets * scale),
        )
        .where(_within(_PORTS, covered), _PORTS.c.counter_ms > 0)
        .group_by(_PORTS.c.agent, _PORTS.c.if_index)
        .order_by(_PORTS.c.agent, _PORTS.c.if_index)
    )  # fmt: skip
    if asn is not None:
        query = query.having(func.max(_PORTS.c.asn) == asn)
    found = []
    for agent, if_index, owner, *figures in session.execute(query):
        for direction, (size, samples, counted) in (
            ("in", figures[0:3]),
            ("out", figures[3:6]),
        ):
            if not counted and not size:
                continue
            sampled = Estimate.of(int(size), int(samples), max_error)
            counted = round(float(counted))
            high = float("inf") if sampled.high is None else sampled.high * (1 + tolerance)
            strays = not sampled.low * (1 - tolerance) <= counted <= high
            deviation = round(sampled.bytes / counted - 1, 4) if counted else None
            if strays or not strays_only:
                found.append(
                    PortCheck(agent, int(if_index), owner, direction, sampled, counted,
                              deviation, strays)
                )  # fmt: skip
    return found


@dataclass(frozen=True)
class DoubleCount:
    """Samples that may count frames twice: taken not at their input port (egress or VLAN
    sampling; ``if_index`` None, the agent's), or of MACs whose own port is on another agent
    (sampling on an inter-switch link)."""

    agent: str
    if_index: int | None
    kind: str  # not-ingress or seen-at-two-agents
    samples: int
    of_samples: int
    share: float


def double_counting(session: Session, period: Period) -> list[DoubleCount]:
    """Where frames may be counted twice; empty when sampling is ingress-only on edge ports."""
    covered = spans(session, period.start, period.end)
    found = []
    agents = session.execute(
        select(_AGENTS.c.agent, func.sum(_AGENTS.c.not_ingress_samples),
               func.sum(_AGENTS.c.flow_samples))
        .where(_within(_AGENTS, covered))
        .group_by(_AGENTS.c.agent)
        .having(func.sum(_AGENTS.c.not_ingress_samples) > 0)
        .order_by(_AGENTS.c.agent)
    )  # fmt: skip
    for agent, samples, of in agents:
        samples, of = int(samples), int(of)
        found.append(DoubleCount(agent, None, "not-ingress", int(samples), int(of),
                                 round(samples / of, 4) if of else 0.0))  # fmt: skip
    ports = session.execute(
        select(_PORTS.c.agent, _PORTS.c.if_index, func.sum(_PORTS.c.foreign_samples),
               func.sum(_PORTS.c.in_samples))
        .where(_within(_PORTS, covered))
        .group_by(_PORTS.c.agent, _PORTS.c.if_index)
        .having(func.sum(_PORTS.c.foreign_samples) > 0)
        .order_by(_PORTS.c.agent, _PORTS.c.if_index)
    )  # fmt: skip
    for agent, if_index, samples, of in ports:
        samples, of = int(samples), int(of)
        found.append(DoubleCount(agent, int(if_index), "seen-at-two-agents", int(samples),
                                 int(of), round(samples / of, 4) if of else 0.0))  # fmt: skip
    return found


@dataclass(frozen=True)
class AgentFigures:
    """How completely one agent's sFlow arrived in a period."""

    agent: str
    datagrams: int
    malformed: int
    lost: int
    lost_share: float  # of the datagrams sent (received + lost)
    flow_samples: int
    missed: int
    dropped: int
    dropped_share: float  # of the samples taken (counted + missed + dropped)
    not_ingress: int


def agents(session: Session, period: Period) -> list[AgentFigures]:
    """Per agent: datagrams received, malformed and lost, samples counted, missed, dropped."""
    covered = spans(session, period.start, period.end)
    names = ("datagrams", "malformed", "lost", "flow_samples", "missed_samples",
             "dropped_samples", "not_ingress_samples")  # fmt: skip
    query = (
        select(_AGENTS.c.agent, *(func.sum(_AGENTS.c[name]) for name in names))
        .where(_within(_AGENTS, covered))
        .group_by(_AGENTS.c.agent)
        .order_by(_AGENTS.c.agent)
    )
    found = []
    for agent, *sums in session.execute(query):
        datagrams, malformed, lost, flows, missed, dropped, not_ingress = map(int, sums)
        sent = datagrams + lost
        taken = flows + missed + dropped
        found.append(
            AgentFigures(
                agent, int(datagrams), int(malformed), int(lost),
                round(lost / sent, 4) if sent else 0.0, int(flows), int(missed), int(dropped),
                round(dropped / taken, 4) if taken else 0.0, int(not_ingress),
            )
        )  # fmt: skip
    return found


@dataclass(frozen=True)
class UnknownMac:
    """A unicast MAC of no member seen in a period, where, and how much."""

    mac: str
    role: str  # src: it sent the frames; dst: they were sent to it
    agent: str
    if_index: int
    samples: int
    bytes: int
    last_seen: dt.datetime


def unknown_macs(session: Session, period: Period) -> list[UnknownMac]:
    """Sightings of unknown MACs in ``period`` (kept as long as the 5-minute rows)."""
    table = TrafficUnknownMac
    query = (
        select(table.mac, table.role, table.agent, table.if_index, func.sum(table.samples),
               func.sum(table.bytes), func.max(table.start))
        .where(table.start >= period.start, table.start < period.end)
        .group_by(table.mac, table.role, table.agent, table.if_index)
        .order_by(func.sum(table.bytes).desc(), table.mac)
    )  # fmt: skip
    return [
        UnknownMac(mac, str(role), agent, int(if_index), int(samples), int(size),
                   dt.datetime.fromtimestamp(int(last), dt.UTC))
        for mac, role, agent, if_index, samples, size, last in session.execute(query)
    ]  # fmt: skip


# -- the whole report -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficReport:
    """``ixp traffic report``: everything above for one period (and one member, if asked)."""

    since: dt.date
    until: dt.date
    asn: int | None
    days: tuple[Day, ...]
    members: tuple[MemberTraffic, ...]
    pairs: tuple[PairTraffic, ...]
    shares: tuple[Share, ...]
    opportunity: Opportunity | None
    counter_check: tuple[PortCheck, ...]
    double_counting: tuple[DoubleCount, ...]
    agents: tuple[AgentFigures, ...]
    unknown_macs: tuple[UnknownMac, ...]


def report(
    session: Session,
    period: Period,
    *,
    max_error: float,
    tolerance: float,
    asn: int | None = None,
    top: int = 10,
    origins: Collection[int] | None = None,
) -> TrafficReport:
    """The whole report. With ``asn``: that member's days, pairs, shares and ports; the
    exchange's health figures (agents, double counting, unknown MACs, opportunity) only
    without it."""
    exchange_wide = asn is None
    return TrafficReport(
        period.since,
        period.until,
        asn,
        tuple(daily(session, period, max_error, asn)),
        tuple(members(session, period, max_error, asn=asn, top=top)),
        tuple(pairs(session, period, max_error, asn=asn, top=top)),
        tuple(local_shares(session, period, max_error, asn=asn)),
        opportunity(session, origins=origins, top=top) if exchange_wide else None,
        tuple(counter_check(session, period, max_error, tolerance, asn=asn)),
        tuple(double_counting(session, period)) if exchange_wide else (),
        tuple(agents(session, period)) if exchange_wide else (),
        tuple(unknown_macs(session, period)) if exchange_wide else (),
    )
