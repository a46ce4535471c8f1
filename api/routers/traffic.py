"""Measured traffic over the fabric: local traffic per day, members, pairs, the peering
matrix, local shares, the opportunity, and the measurement's health; and the one thing
written here, members' monthly international (or total) figures the shares are worked
out from.

Operators see everything. A member's user sees its own member's rows (its days, its
pairs with each peer, its row of the matrix, its share and figures) and the exchange's
aggregate figures (traffic kept local per day, the overall share, the opportunity);
another member's ASN is answered exactly like one that is no member (404). The
measurement's health (ports, agents, unknown MACs) is for operators. Periods are whole
UTC days, ``since`` to ``until`` included, by default the last 30 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Db, Operator, Principal, Settings, User, own_asn
from api.schemas.problem import errors
from api.schemas.traffic import FigureBody, MemberTrafficView, TrafficHealth
from ixp.members import check_member
from ixp.models.base import utcnow
from ixp.traffic import international, report
from ixp.traffic.international import Figure
from ixp.traffic.report import Day, Matrix, MemberTraffic, Opportunity, PairTraffic, Share

router = APIRouter(prefix="/api/v1", tags=["traffic"])

_FIRST_ASN, _LAST_ASN = 1, 2**32 - 2
MemberAsn = Annotated[int, Path(ge=_FIRST_ASN, le=_LAST_ASN, description="The member's AS number.")]
AsnFilter = Annotated[
    int | None,
    Query(
        ge=_FIRST_ASN, le=_LAST_ASN, description="Only this member's (a member's user: its own)."
    ),
]
Since = Annotated[dt.date | None, Query(description="First day (UTC); default 30 days ago.")]
Until = Annotated[dt.date | None, Query(description="Last day included (UTC); default today.")]
Top = Annotated[int, Query(ge=1, le=200, description="How many members, pairs or networks.")]

_SIGNED_IN = errors(404, 422)


def _period(since: dt.date | None, until: dt.date | None) -> report.Period:
    return report.Period.including(since, until, utcnow().date())


def _own(db: Db, user: Principal, asn: int | None) -> int | None:
    """The member a listing is narrowed to: any (or none) for operators, a member's user's
    own always; another member's is the 404 of no member."""
    if user.is_operator:
        return check_member(db, asn) if asn is not None else None
    return check_member(db, own_asn(user, asn if asn is not None else user.member_asn or 0))


@router.get("/traffic/days", summary="Traffic kept local per day", responses=_SIGNED_IN)
def traffic_days(
    user: User, db: Db, settings: Settings, since: Since = None, until: Until = None,
    asn: AsnFilter = None,
) -> list[Day]:  # fmt: skip
    """Bytes exchanged over the fabric per day: between all members (the exchange's
    aggregate, for every signed-in user), or one member's sent and received (``asn``)."""
    number = None
    if asn is not None:
        number = check_member(db, own_asn(user, asn))
    return report.daily(db, _period(since, until), settings.traffic_max_error, number)


@router.get("/traffic/members", summary="Members by traffic", responses=_SIGNED_IN)
def traffic_members(
    user: User, db: Db, settings: Settings, since: Since = None, until: Until = None,
    top: Top = 20,
) -> list[MemberTraffic]:  # fmt: skip
    """Members by their traffic over the fabric, largest first (a member's user: its own)."""
    number = _own(db, user, None)
    period = _period(since, until)
    return report.members(db, period, settings.traffic_max_error, asn=number, top=top)


@router.get("/traffic/pairs", summary="Member pairs by traffic", responses=_SIGNED_IN)
def traffic_pairs(
    user: User, db: Db, settings: Settings, since: Since = None, until: Until = None,
    asn: AsnFilter = None, top: Top = 20,
) -> list[PairTraffic]:  # fmt: skip
    """What members sent each other, largest first; ``asn`` keeps the pairs a member is part
    of (a member's user: its own pairs only)."""
    number = _own(db, user, asn)
    period = _period(since, until)
    return report.pairs(db, period, settings.traffic_max_error, asn=number, top=top)


@router.get("/traffic/matrix", summary="The peering matrix", responses=_SIGNED_IN)
def traffic_matrix(
    user: User, db: Db, since: Since = None, until: Until = None, asn: AsnFilter = None,
    top: Top = 20,
) -> Matrix:  # fmt: skip
    """Bytes each of the largest members sent each other (the heat map); with ``asn`` (a
    member's user: always its own), that member's row and column."""
    return report.matrix(db, _period(since, until), top=top, asn=_own(db, user, asn))


@router.get("/traffic/shares", summary="Local share per month", responses=_SIGNED_IN)
def traffic_shares(
    user: User, db: Db, settings: Settings, since: Since = None, until: Until = None,
    asn: AsnFilter = None,
) -> list[Share]:  # fmt: skip
    """Local ÷ (local + international) per month, with its interval: the exchange's over the
    members with a figure, then each member's (a member's user: the exchange's and its own).
    Members without a figure are listed as such, never guessed."""
    period = _period(since, until)
    number = _own(db, user, asn)
    shares = report.local_shares(db, period, settings.traffic_max_error)
    return [s for s in shares if s.asn is None or number is None or s.asn == number]


@router.get("/traffic/international", summary="Entered monthly figures", responses=_SIGNED_IN)
def traffic_international(user: User, db: Db, asn: AsnFilter = None) -> list[Figure]:
    """Members' international (or total) traffic per month as entered (a member's user: its
    own)."""
    return international.figures(db, asn=_own(db, user, asn))


@router.get("/traffic/opportunity", summary="Networks not on the exchange", responses=_SIGNED_IN)
def traffic_opportunity(user: User, db: Db, top: Top = 20) -> Opportunity:
    """The country's largest networks by delegated address space with no ASN on the
    exchange: whom to recruit."""
    return report.opportunity(db, top=top)


@router.get(
    "/traffic/health", summary="How far the measurement can be trusted", responses=errors(403, 422)
)
def traffic_health(
    operator: Operator, db: Db, settings: Settings, since: Since = None, until: Until = None
) -> TrafficHealth:
    """Ports whose estimate strays from their counters, possible double counting, lost
    datagrams and dropped samples per agent, unknown MACs (operators)."""
    period = _period(since, until)
    return TrafficHealth(
        since=period.since,
        until=period.until - dt.timedelta(days=1),
        counter_check=report.counter_check(
            db, period, settings.traffic_max_error, settings.traffic_counter_tolerance
        ),
        double_counting=report.double_counting(db, period),
        agents=report.agents(db, period),
        unknown_macs=report.unknown_macs(db, period),
    )


@router.get("/members/{asn}/traffic", summary="A member's traffic", responses=_SIGNED_IN)
def member_traffic(
    asn: MemberAsn, user: User, db: Db, settings: Settings, since: Since = None,
    until: Until = None, top: Top = 20,
) -> MemberTrafficView:  # fmt: skip
    """One member's traffic per day, with its peers and its local share per month."""
    number = check_member(db, own_asn(user, asn))
    period = _period(since, until)
    error = settings.traffic_max_error
    return MemberTrafficView(
        asn=number,
        since=period.since,
        until=period.until - dt.timedelta(days=1),
        days=report.daily(db, period, error, number),
        pairs=report.pairs(db, period, error, asn=number, top=top),
        shares=report.local_shares(db, period, error, asn=number),
    )


Month = Annotated[str, Path(max_length=7, description="The month, YYYY-MM.")]


@router.put(
    "/members/{asn}/traffic/international/{month}",
    summary="Enter a month's international traffic",
    responses=errors(404, 422),
)
def enter_figure(asn: MemberAsn, month: Month, body: FigureBody, user: User, db: Db) -> Figure:
    """Enter (or replace) the member's international or total traffic of ``month``, from
    which its local share is worked out; audited. A member's user enters its own member's;
    a month not yet begun is refused."""
    number = check_member(db, own_asn(user, asn))
    return international.set_figure(
        db, number, month, body.bytes, kind=body.kind, actor=user.username
    )
