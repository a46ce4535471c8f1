"""The traffic pages: what the exchange keeps local, and one member's traffic over it.

The same rules as the traffic API (``api.routers.traffic``), through the same
``ixp.traffic`` service functions: the exchange's page (``/traffic``: traffic
per day, the local share of every member, the top members and pairs, the peering
matrix as a heat map, the measurement's health and the opportunity) is for
operators; a member's page (``/members/{asn}/traffic``) shows only that member's
days, share and pairs, and another member's is the 404 of no member.

The period is a GET form of whole UTC days, ``since`` to ``until`` included: a
bad day is shown at its field and the page stays empty (422). Each chart's points
travel in a JSON block the page script draws with uPlot; the same figures are in
a table beside it, for screen readers and for browsers without scripts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, MemberPages, Operator, Settings, User
from api.pages.member import Shown, field_errors, member_page, shown_member
from api.pages.operator import Text
from api.pages.render import Look, Viewer, page
from api.routers.members import Asn
from ixp.errors import Problems, ValidationError
from ixp.exchange import get_exchange
from ixp.models import FigureKind
from ixp.models.base import utcnow
from ixp.monitor.alerts import AlertRow
from ixp.traffic import alerts, international, report
from ixp.traffic.report import Day, Estimate, Matrix, Period, Share, UnknownMac

router = APIRouter(include_in_schema=False)

TOP = 20  # members, pairs, networks and the matrix's members the pages list
HEAT_LEVELS = 5  # shades of a matrix cell; each a half decade below the one above
_MAX_GIGABYTES = 9_000_000_000  # 9 ZB: what a month's figure can hold (bytes in 63 bits)


@dataclass(frozen=True)
class Asked:
    """The period form: the values as typed (shown again), the period they make (None
    when a field is bad) and the error of each bad field."""

    since: str
    until: str
    period: Period | None
    errors: dict[str, str]
    today: dt.date  # its traffic is counted so far, not for the whole day

    @classmethod
    def of(cls, since: str | None, until: str | None) -> Asked:
        """The form as sent; the days of the period it gives, when it gives one."""
        today = utcnow().date()
        try:
            period = Period.asked(since, until, today)
        except ValidationError as exc:
            return cls(since or "", until or "", None, field_errors(exc), today)
        last = period.until - dt.timedelta(days=1)
        return cls(period.since.isoformat(), last.isoformat(), period, {}, today)

    @property
    def status(self) -> int:
        """The page's status: 422 while a field is bad."""
        return 422 if self.errors else 200


def day_chart(days: Sequence[Day], *, own: bool) -> dict[str, Any]:
    """Days as the chart script reads them (``#traffic-days``): the series to draw and one
    point per day, oldest first. The exchange's: bytes between members and their IPv6
    part; a member's (``own``): what it sent and received."""
    if own:
        series = [{"key": "sent", "label": "Sent"}, {"key": "received", "label": "Received"}]
    else:
        series = [{"key": "local", "label": "Between members"}, {"key": "ipv6", "label": "IPv6"}]
    points = []
    for day in days:
        moment = dt.datetime(day.day.year, day.day.month, day.day.day, tzinfo=dt.UTC)
        if own:
            values = {
                "sent": day.sent.bytes if day.sent else 0,
                "received": day.received.bytes if day.received else 0,
            }
        else:
            values = {"local": day.local.bytes, "ipv6": day.ipv6_bytes}
        points.append({"t": moment.timestamp(), **values})
    return {"unit": "bytes", "step": 86400, "series": series, "points": points}


@dataclass(frozen=True)
class HeatCell:
    """What one member sent ``dst`` as the heat map shows it: the estimate and its shade
    (0: nothing was sent; ``HEAT_LEVELS``: within half a decade of the largest cell)."""

    dst: int
    estimate: Estimate
    level: int


@dataclass(frozen=True)
class HeatRow:
    """One member's row of the heat map: what it sent each member of the columns."""

    asn: int
    name: str | None
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class HeatMap:
    """The peering matrix of the largest members, the same members in rows and columns."""

    asns: tuple[int, ...]
    rows: tuple[HeatRow, ...]

    @property
    def columns(self) -> list[str]:
        """The columns' headings."""
        return [f"AS{asn}" for asn in self.asns]


def heat_map(grid: Matrix, max_error: float) -> HeatMap:
    """Each cell's estimate (thin when its samples are too few, as the report marks every
    figure) and its shade on a logarithmic scale: traffic between members spans many
    decades, and a linear scale would leave all but the largest pairs blank."""
    largest = max((size for row in grid.cells for size in row), default=0)

    def level(size: int) -> int:
        if size <= 0:
            return 0
        below = math.log10(largest / size)
        return max(1, HEAT_LEVELS - math.floor(below * 2))

    rows = tuple(
        HeatRow(
            src,
            name,
            tuple(
                HeatCell(dst, Estimate.of(size, count, max_error), level(size))
                for dst, size, count in zip(grid.asns, sizes, counts, strict=True)
            ),
        )
        for src, name, sizes, counts in zip(
            grid.asns, grid.names, grid.cells, grid.samples, strict=True
        )
    )
    return HeatMap(grid.asns, rows)


@dataclass(frozen=True)
class ShareRow:
    """One network's local share in each month of the table (None: nothing that month);
    ``asn`` None: the exchange's."""

    asn: int | None
    name: str | None
    months: tuple[Share | None, ...]


@dataclass(frozen=True)
class ShareTable:
    """The report's shares with a column per month: (month, days measured) of each, the
    exchange's row first, then each member's by ASN."""

    months: tuple[tuple[str, int], ...]
    rows: tuple[ShareRow, ...]

    @property
    def headings(self) -> list[str]:
        """The columns' headings: the network, then each month and its days measured."""
        days = [f"{month} ({n} day{'s' if n != 1 else ''} measured)" for month, n in self.months]
        return ["Network", *days]

    @property
    def known(self) -> bool:
        """Whether any network has a share in any month (a figure was entered for it)."""
        return any(s and s.status == "measured" for row in self.rows for s in row.months)

    @property
    def overall(self) -> Share | None:
        """The exchange's share in the latest month that has one."""
        exchange = [share for row in self.rows if row.asn is None for share in row.months]
        measured = [share for share in exchange if share and share.status == "measured"]
        return measured[-1] if measured else None


def share_table(shares: Sequence[Share]) -> ShareTable:
    """``shares`` (``report.local_shares``) as a table of networks by months: one row per
    network however many months the period spans."""
    months = {s.month: s.days_measured for s in shares}
    by_network: dict[int | None, dict[str, Share]] = {}
    for share in shares:
        by_network.setdefault(share.asn, {})[share.month] = share
    order = sorted(by_network, key=lambda asn: -1 if asn is None else asn)
    rows = []
    for asn in order:
        found = by_network[asn]
        name = next(iter(found.values())).name
        rows.append(ShareRow(asn, name, tuple(found.get(month) for month in sorted(months))))
    return ShareTable(tuple(sorted(months.items())), tuple(rows))


@dataclass(frozen=True)
class MacSightings:
    """Where an unknown MAC was seen in the period (largest first, as the report lists
    them) and its open alert (None: closed, the MAC was not seen lately)."""

    mac: str
    sightings: tuple[UnknownMac, ...]
    alert: AlertRow | None

    @property
    def bytes(self) -> int:
        """All its sightings' bytes."""
        return sum(seen.bytes for seen in self.sightings)

    @property
    def last_seen(self) -> dt.datetime:
        """When it was last seen anywhere."""
        return max(seen.last_seen for seen in self.sightings)


def mac_sightings(
    sightings: Sequence[UnknownMac], open_alerts: dict[str, AlertRow]
) -> list[MacSightings]:
    """The report's sightings by MAC (a router nobody registered is one row, however many
    ports saw frames to it), largest first, each with its alert."""
    by_mac: dict[str, list[UnknownMac]] = {}
    for seen in sightings:
        by_mac.setdefault(seen.mac, []).append(seen)
    return [MacSightings(mac, tuple(seen), open_alerts.get(mac)) for mac, seen in by_mac.items()]


def _asked(since: Text = None, until: Text = None) -> Asked:
    return Asked.of(since, until)


AskedPeriod = Annotated[Asked, Depends(_asked)]


def _figures(db: Session, period: Period, max_error: float, asn: int | None) -> dict[str, Any]:
    """What both pages show: the days (with their chart), the local shares and the pairs,
    the exchange's (``asn`` None) or one member's only."""
    days = report.daily(db, period, max_error, asn)
    return {
        "days": days,
        "chart": day_chart(days, own=asn is not None),
        "shares": share_table(report.local_shares(db, period, max_error, asn=asn)),
        "pairs": report.pairs(db, period, max_error, asn=asn, top=TOP),
    }


@router.get("/traffic", response_class=HTMLResponse)
def exchange_traffic(
    request: Request, operator: Operator, viewer: Look, db: Db, settings: Settings,
    asked: AskedPeriod,
) -> HTMLResponse:  # fmt: skip
    """Traffic kept local per day, local shares, top members and pairs, the heat map, the
    measurement's health and the networks still to recruit."""
    context: dict[str, Any] = {}
    if asked.period is not None:
        period, error = asked.period, settings.traffic_max_error
        context = {
            **_figures(db, period, error, None),
            "members": report.members(db, period, error, top=TOP),
            "heat": heat_map(report.matrix(db, period, top=TOP), error),
            "agents": report.agents(db, period),
            "counter_check": report.counter_check(
                db, period, error, settings.traffic_counter_tolerance
            ),
            "double_counting": report.double_counting(db, period),
            "unknown_macs": mac_sightings(report.unknown_macs(db, period), alerts.open_alerts(db)),
            "opportunity": report.opportunity(db, top=TOP),
        }
    return page(
        request,
        "traffic/exchange.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        status=asked.status,
        asked=asked,
        section="traffic",
        **context,
    )


@dataclass(frozen=True)
class FigureForm:
    """The form a member's NOC enters a month's international (or total) traffic with:
    the values as typed and each bad field's error."""

    month: str = ""
    gigabytes: str = ""
    kind: str = FigureKind.international.value
    errors: dict[str, str] = field(default_factory=dict)


KINDS = (
    (FigureKind.international.value, "International: your transit and foreign links"),
    (FigureKind.total.value, "Total: all your traffic, this exchange's included"),
)


def _gigabytes(text: str) -> int:
    """Bytes from gigabytes as typed (``1500``, ``1,500.5``); 1 GB is 10^9 bytes."""
    try:
        size = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError("gigabytes", text, "is not a number of gigabytes") from None
    if not size.is_finite() or size < 0 or size > _MAX_GIGABYTES:
        raise ValidationError("gigabytes", text, f"must be between 0 and {_MAX_GIGABYTES:,}")
    return int(size * 10**9)


def _saved_month(request: Request) -> str | None:
    """The month the redirect after saving names, if it is one (never text shown as given)."""
    month = request.query_params.get("saved", "")
    return month if re.fullmatch(r"\d{4}-\d{2}", month) else None


def _member_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    settings: Settings,
    shown: Shown,
    asked: Asked,
    form: FigureForm,
    status: int,
) -> HTMLResponse:
    context: dict[str, Any] = {}
    if asked.period is not None:
        context = _figures(db, asked.period, settings.traffic_max_error, shown.member.asn)
    return member_page(
        request,
        "traffic/member.html",
        viewer,
        shown,
        "traffic",
        status=status,
        asked=asked,
        figure=form,
        kinds=KINDS,
        saved=_saved_month(request),
        **context,
    )


@router.get("/members/{asn}/traffic", response_class=HTMLResponse)
def member_traffic(
    request: Request, asn: Asn, user: User, pages: MemberPages, viewer: Look, db: Db,
    settings: Settings, asked: AskedPeriod,
) -> HTMLResponse:  # fmt: skip
    """One member's traffic per day, its local share per month when its figure is known,
    and its peers by traffic (its own pairs only)."""
    shown = shown_member(db, user, asn, pages)
    form = FigureForm()
    return _member_page(request, viewer, db, settings, shown, asked, form, asked.status)


@router.post("/members/{asn}/traffic/figure", response_class=HTMLResponse)
def enter_figure(
    request: Request,
    asn: Asn,
    user: User,
    pages: MemberPages,
    viewer: Look,
    db: Db,
    settings: Settings,
    month: Annotated[str, Form(max_length=32)] = "",
    gigabytes: Annotated[str, Form(max_length=32)] = "",
    kind: Annotated[str, Form(max_length=32)] = FigureKind.international.value,
) -> Response:
    """Enter (or replace) a month's figure with the API's rules
    (``PUT /api/v1/members/{asn}/traffic/international/{month}``); every bad field named."""
    shown = shown_member(db, user, asn, pages)
    problems = Problems()
    problems.check(international.check_month, month)
    size = problems.check(_gigabytes, gigabytes)
    problems.check(international.check_kind, kind)
    try:
        problems.raise_any()
        assert size is not None
        international.set_figure(db, shown.member.asn, month, size, kind=kind, actor=user.username)
    except ValidationError as exc:
        form = FigureForm(month, gigabytes, kind, field_errors(exc))
        return _member_page(request, viewer, db, settings, shown, Asked.of(None, None), form, 422)
    return RedirectResponse(f"/members/{shown.member.asn}/traffic?saved={month}", status_code=303)
