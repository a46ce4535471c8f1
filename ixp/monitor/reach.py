"""Domestic reachability: how much of the country's address space and ASNs the exchange reaches.

The country's resources come from an RIR ``delegated-*-extended`` file
(``registry|cc|type|start|value|date|status|opaque-id``; ``value`` is an
address count for ipv4, a prefix length for ipv6 and an ASN count for asn).
From the live RIB we take the union of accepted prefixes (overall, and per
member) and intersect it with the country's ranges as integer intervals, so
overlapping and nested routes are never counted twice. IPv6 is counted in /48
blocks (the longest prefix a route server accepts); an ASN is reachable when a
route it originates is.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ixp.db import transaction
from ixp.errors import ValidationError
from ixp.models import Exchange, ReachSample, RirDelegation

COUNTED_STATUSES = frozenset({"allocated", "assigned"})
KINDS = frozenset({"ipv4", "ipv6", "asn"})

Interval = tuple[int, int]  # [start, end)


@dataclass(frozen=True)
class Delegation:
    """One resource line of a delegated-extended file."""

    registry: str
    country: str
    kind: str
    start: str
    value: int
    date: str | None
    status: str
    opaque_id: str | None


def parse_delegated(lines: Iterable[str], source: str = "file") -> list[Delegation]:
    """Every resource line (version, summary and comment lines skipped); bad lines raise."""
    result = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("|")
        if fields[0].isdigit() or (len(fields) >= 6 and fields[5] == "summary"):
            continue  # the version line and the per-type summary lines
        if len(fields) < 7:
            raise ValidationError(f"{source} line {number}", line, "has fewer than 7 fields")
        registry, country, kind, start, value, date, status = fields[:7]
        if kind not in KINDS:
            raise ValidationError(f"{source} line {number} type", kind, "is not ipv4/ipv6/asn")
        try:
            amount = int(value)
            _interval(kind, start, amount)
        except ValueError:
            raise ValidationError(
                f"{source} line {number}", line, "has a bad start or value"
            ) from None
        result.append(
            Delegation(
                registry=registry,
                country=country.upper(),
                kind=kind,
                start=start,
                value=amount,
                date=date or None,
                status=status.lower(),
                opaque_id=fields[7] if len(fields) > 7 and fields[7] else None,
            )
        )
    return result


def _interval(kind: str, start: str, value: int) -> Interval:
    """The resource as an integer interval: IPv4 addresses, IPv6 /48 blocks, or ASNs."""
    if kind == "ipv4":
        first = int(ipaddress.IPv4Address(start))
        if value <= 0 or first + value > 2**32:
            raise ValueError(value)
        return first, first + value
    if kind == "ipv6":
        network = ipaddress.IPv6Network(f"{start}/{value}")
        first = int(network.network_address) >> 80
        return first, first + (1 << max(0, 48 - value))
    first = int(start)
    if value <= 0:
        raise ValueError(value)
    return first, first + value


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """Size of the intersection of two merged interval lists."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            total += end - start
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def size(intervals: Sequence[Interval]) -> int:
    """Total length of merged intervals."""
    return sum(end - start for start, end in intervals)


@dataclass(frozen=True)
class CountryResources:
    """A country's delegated resources as merged intervals."""

    country: str
    ipv4: list[Interval]
    ipv6: list[Interval]
    asns: frozenset[int]

    @classmethod
    def of(
        cls, country: str, delegations: Iterable[Delegation | RirDelegation]
    ) -> CountryResources:
        ipv4: list[Interval] = []
        ipv6: list[Interval] = []
        asns: set[int] = set()
        for item in delegations:
            if item.country != country or item.status not in COUNTED_STATUSES:
                continue
            interval = _interval(item.kind, item.start, item.value)
            if item.kind == "ipv4":
                ipv4.append(interval)
            elif item.kind == "ipv6":
                ipv6.append(interval)
            else:
                asns.update(range(*interval))
        return cls(country, merge(ipv4), merge(ipv6), frozenset(asns))


@dataclass(frozen=True)
class Reach:
    """Reachable versus total domestic resources, for one member or overall (``asn`` None)."""

    asn: int | None
    ipv4_reachable: int
    ipv4_total: int
    ipv6_48_reachable: int
    ipv6_48_total: int
    asns_reachable: int
    asns_total: int

    @staticmethod
    def _percent(part: int, whole: int) -> float:
        return round(100.0 * part / whole, 2) if whole else 0.0

    def percents(self) -> dict[str, float]:
        """Share reachable per resource (``ipv4``, ``ipv6_48``, ``asn``), in percent."""
        return {
            "ipv4": self._percent(self.ipv4_reachable, self.ipv4_total),
            "ipv6_48": self._percent(self.ipv6_48_reachable, self.ipv6_48_total),
            "asn": self._percent(self.asns_reachable, self.asns_total),
        }

    def figures(self) -> ReachFigures:
        """With the three percentages the report shows."""
        shares = self.percents()
        return ReachFigures(
            asn=self.asn,
            ipv4_percent=shares["ipv4"],
            ipv6_48_percent=shares["ipv6_48"],
            asn_percent=shares["asn"],
            ipv4_reachable=self.ipv4_reachable,
            ipv4_total=self.ipv4_total,
            ipv6_48_reachable=self.ipv6_48_reachable,
            ipv6_48_total=self.ipv6_48_total,
            asns_reachable=self.asns_reachable,
            asns_total=self.asns_total,
        )


@dataclass(frozen=True)
class ReachFigures:
    """A reach as reported: the shares in percent beside the counts they come from."""

    asn: int | None
    ipv4_percent: float
    ipv6_48_percent: float
    asn_percent: float
    ipv4_reachable: int
    ipv4_total: int
    ipv6_48_reachable: int
    ipv6_48_total: int
    asns_reachable: int
    asns_total: int


@dataclass(frozen=True)
class ReachPoint(ReachFigures):
    """The figures of one stored sample, with when it was taken."""

    at: dt.datetime


@dataclass(frozen=True)
class ReachReport:
    """The newest sample set and the overall history (``at`` None: nothing sampled yet)."""

    country: str
    at: dt.datetime | None
    overall: ReachFigures | None
    members: tuple[ReachFigures, ...]
    history: tuple[ReachPoint, ...]


@dataclass(frozen=True)
class MemberReach:
    """One member's figures in the newest sample set (None if it reached nothing then) and
    its history."""

    asn: int
    country: str
    at: dt.datetime | None
    current: ReachFigures | None
    history: tuple[ReachPoint, ...]


def _route_intervals(prefix: str) -> tuple[int, Interval] | None:
    network = ipaddress.ip_network(prefix, strict=False)
    if network.version == 4:
        first = int(network.network_address)
        return 4, (first, first + network.num_addresses)
    if network.prefixlen > 48:
        return None
    first = int(network.network_address) >> 80
    return 6, (first, first + (1 << (48 - network.prefixlen)))


def reach_of(
    resources: CountryResources, routes: Iterable[tuple[str, int | None]], asn: int | None = None
) -> Reach:
    """Reach of a set of routes given as (prefix, origin ASN)."""
    v4: list[Interval] = []
    v6: list[Interval] = []
    origins: set[int] = set()
    for prefix, origin in routes:
        found = _route_intervals(prefix)
        if found is not None:
            (v4 if found[0] == 4 else v6).append(found[1])
        if origin is not None:
            origins.add(origin)
    return Reach(
        asn=asn,
        ipv4_reachable=overlap(merge(v4), resources.ipv4),
        ipv4_total=size(resources.ipv4),
        ipv6_48_reachable=overlap(merge(v6), resources.ipv6),
        ipv6_48_total=size(resources.ipv6),
        asns_reachable=len(origins & resources.asns),
        asns_total=len(resources.asns),
    )


def reach_by_member(
    resources: CountryResources, routes: Iterable[tuple[str, int | None, int | None]]
) -> list[Reach]:
    """Overall reach first, then one per member; routes are (prefix, origin ASN, member ASN)."""
    every: list[tuple[str, int | None]] = []
    by_member: dict[int, list[tuple[str, int | None]]] = {}
    for prefix, origin, member in routes:
        every.append((prefix, origin))
        if member is not None:
            by_member.setdefault(member, []).append((prefix, origin))
    result = [reach_of(resources, every)]
    result += [reach_of(resources, by_member[m], m) for m in sorted(by_member)]
    return result


def load_delegations(session: Session, path: Path, country: str) -> dict[str, int]:
    """Replace the stored delegations of ``country`` with those in ``path``; counts per type."""
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            parsed = parse_delegated(stream, source=path.name)
    except OSError as exc:
        raise ValidationError("file", str(path), f"cannot be read: {exc.strerror}") from None
    mine = [item for item in parsed if item.country == country.upper()]
    if not mine:
        raise ValidationError("file", str(path), f"has no delegations for country {country}")
    with transaction(session):
        session.execute(delete(RirDelegation).where(RirDelegation.country == country.upper()))
        session.add_all(
            RirDelegation(
                rir=item.registry,
                country=item.country,
                kind=item.kind,
                start=item.start,
                value=item.value,
                date=item.date,
                status=item.status,
                opaque_id=item.opaque_id,
            )
            for item in mine
        )
    counts = {"ipv4": 0, "ipv6": 0, "asn": 0}
    for item in mine:
        counts[item.kind] += 1
    return counts


def country_resources(session: Session, country: str) -> CountryResources:
    """The stored delegations of ``country`` as intervals."""
    rows = session.scalars(select(RirDelegation).where(RirDelegation.country == country.upper()))
    return CountryResources.of(country.upper(), rows)


def store_samples(
    session: Session, exchange: Exchange, reaches: Sequence[Reach], now: dt.datetime
) -> None:
    """Write one sample per reach (caller commits)."""
    session.add_all(
        ReachSample(
            exchange_id=exchange.id,
            at=now,
            country=exchange.country,
            asn=reach.asn,
            ipv4_reachable=reach.ipv4_reachable,
            ipv4_total=reach.ipv4_total,
            ipv6_48_reachable=reach.ipv6_48_reachable,
            ipv6_48_total=reach.ipv6_48_total,
            asns_reachable=reach.asns_reachable,
            asns_total=reach.asns_total,
        )
        for reach in reaches
    )


def _latest(session: Session, exchange: Exchange) -> dt.datetime | None:
    """When the newest sample set was taken."""
    return session.scalar(
        select(ReachSample.at)
        .where(ReachSample.exchange_id == exchange.id)
        .order_by(ReachSample.at.desc())
        .limit(1)
    )


def _history(
    session: Session, exchange: Exchange, asn: int | None, limit: int
) -> tuple[ReachPoint, ...]:
    """The newest ``limit`` samples of member ``asn``, or of the exchange overall (None)."""
    owner = ReachSample.asn.is_(None) if asn is None else ReachSample.asn == asn
    rows = session.scalars(
        select(ReachSample)
        .where(ReachSample.exchange_id == exchange.id, owner)
        .order_by(ReachSample.at.desc())
        .limit(limit)
    )
    return tuple(_point(row) for row in rows)


def report(
    session: Session, exchange: Exchange, history: int = 10, top: int | None = None
) -> ReachReport:
    """The newest sample set (overall and per member) and the recent overall history.

    Members come largest contribution first (IPv4 addresses, then IPv6 /48s, then
    ASNs they make reachable), the order an operator reads them in; ``top`` keeps
    only the first so many.
    """
    latest = _latest(session, exchange)
    if latest is None:
        return ReachReport(exchange.country, None, None, (), ())
    rows = session.scalars(
        select(ReachSample)
        .where(ReachSample.exchange_id == exchange.id, ReachSample.at == latest)
        .order_by(ReachSample.asn)
    ).all()
    reaches = [_reach(row) for row in rows]
    return ReachReport(
        country=exchange.country,
        at=latest,
        overall=next((r.figures() for r in reaches if r.asn is None), None),
        members=tuple(r.figures() for r in _ranked(reaches)[:top]),
        history=_history(session, exchange, None, history),
    )


def member_report(session: Session, exchange: Exchange, asn: int, history: int = 10) -> MemberReach:
    """What member ``asn`` makes reachable now and in its recent samples."""
    latest = _latest(session, exchange)
    past = _history(session, exchange, asn, history)
    current = past[0] if past and past[0].at == latest else None
    return MemberReach(asn, exchange.country, latest, current, past)


def _ranked(reaches: list[Reach]) -> list[Reach]:
    members = [r for r in reaches if r.asn is not None]
    return sorted(
        members,
        key=lambda r: (-r.ipv4_reachable, -r.ipv6_48_reachable, -r.asns_reachable, r.asn),
    )


def _reach(row: ReachSample) -> Reach:
    return Reach(
        asn=row.asn,
        ipv4_reachable=row.ipv4_reachable,
        ipv4_total=row.ipv4_total,
        ipv6_48_reachable=row.ipv6_48_reachable,
        ipv6_48_total=row.ipv6_48_total,
        asns_reachable=row.asns_reachable,
        asns_total=row.asns_total,
    )


def _point(row: ReachSample) -> ReachPoint:
    figures = _reach(row).figures()
    return ReachPoint(**asdict(figures), at=row.at)
