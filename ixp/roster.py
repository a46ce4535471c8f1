"""The operator's table of members: every member with its sessions, prefixes, registry and RPKI.

One row per member: its session on each route server in each address family (as
the monitor last saw it, or "not seen" for a configured session the monitor has
not reported), accepted and filtered prefixes, the highest max-prefix usage of
its sessions, which registry data its filter is built from, how many ROAs
authorise its ASN and whether the monitor holds an open RPKI-invalid alert for it.

The table is searched and filtered in the database and cut into pages there, and
a page is read in a fixed number of queries however many members the exchange
has: the page's members, then their sessions, session states, registry rows,
ROA counts and alerts, each in one query over the page's members.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from ixp import validate, versions
from ixp.errors import Problems, ValidationError
from ixp.exchange import get_exchange
from ixp.models import (
    Alert,
    Exchange,
    IrrDataState,
    IrrPrefixData,
    Member,
    MemberStatus,
    RouteServer,
    RpkiRoa,
    RsSession,
    SessionState,
)
from ixp.monitor.alerts import Rule
from ixp.rs.types import RegistryState
from ixp.versions import VersionedCache

_ASN_SEARCH = re.compile(r"(?i)(?:AS)?(\d{1,10})")


class SessionFilter(enum.StrEnum):
    """Members by the state of their sessions (on one route server, when one is chosen)."""

    up = "up"
    """Every session the monitor saw is established."""
    down = "down"
    """At least one session is not established."""
    unseen = "unseen"
    """The monitor has reported no session of the member."""


@dataclass(frozen=True)
class RosterFilter:
    """What the table shows; every condition given must hold.

    ``query`` is part of the member's name (any case) or its ASN (``38193`` or
    ``AS38193``); ``status`` the member's status; ``route_server`` keeps members
    with a session there; ``state`` is a ``SessionFilter`` value.
    """

    query: str | None = None
    status: str | None = None
    route_server: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class SessionBadge:
    """A member's session on one route server in one family, as the table shows it;
    ``up`` is None when the monitor has not seen it."""

    route_server: str
    family: str
    up: bool | None
    state: str
    imported: int
    filtered: int
    limit: int

    @property
    def usage(self) -> int:
        """Accepted prefixes in percent of the session's limit."""
        return round(100 * self.imported / self.limit) if self.limit else 0


@dataclass(frozen=True)
class RosterRow:
    """One member's line of the table."""

    asn: int
    name: str
    status: MemberStatus
    as_set: str
    sessions: tuple[SessionBadge, ...]
    registry: RegistryState
    registry_fetched_at: dt.datetime | None
    roas: int
    rpki_invalid: bool

    @property
    def accepted(self) -> int:
        """Accepted prefixes over every session."""
        return sum(s.imported for s in self.sessions)

    @property
    def filtered(self) -> int:
        """Filtered prefixes over every session."""
        return sum(s.filtered for s in self.sessions)

    @property
    def usage(self) -> int:
        """The highest max-prefix usage of its sessions, in percent."""
        return max((s.usage for s in self.sessions), default=0)


@dataclass(frozen=True)
class Roster:
    """One page of the table, how many members match in all, and the exchange's route
    servers (the table's columns and the filter's choices)."""

    rows: tuple[RosterRow, ...]
    total: int
    route_servers: tuple[str, ...]


def _checked(
    exchange: Exchange, given: RosterFilter
) -> tuple[str | None, MemberStatus | None, RouteServer | None, SessionFilter | None]:
    """The filter's values, every bad one reported at once (by its form field's name)."""
    problems = Problems()

    def status(value: str) -> MemberStatus:
        try:
            return MemberStatus(value)
        except ValueError:
            allowed = ", ".join(s.value for s in MemberStatus)
            raise ValidationError("status", value, f"must be one of {allowed}") from None

    def state(value: str) -> SessionFilter:
        try:
            return SessionFilter(value)
        except ValueError:
            allowed = ", ".join(s.value for s in SessionFilter)
            raise ValidationError("state", value, f"must be one of {allowed}") from None

    def route_server(value: str) -> RouteServer:
        for rs in exchange.route_servers:
            if rs.name == value:
                return rs
        raise ValidationError("route_server", validate.shown(value), "is no route server here")

    query = problems.check(validate.text, given.query, "q") if given.query else None
    chosen = (
        problems.check(status, given.status) if given.status else None,
        problems.check(route_server, given.route_server) if given.route_server else None,
        problems.check(state, given.state) if given.state else None,
    )
    problems.raise_any()
    return query, *chosen


def _state_condition(state: SessionFilter, rs: RouteServer | None) -> ColumnElement[bool]:
    def seen(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        where = [SessionState.asn == Member.asn, *conditions]
        if rs is not None:
            where.append(SessionState.route_server_id == rs.id)
        return exists().where(and_(*where))

    if state is SessionFilter.down:
        return seen(not_(SessionState.up))
    if state is SessionFilter.up:
        return and_(seen(SessionState.up.is_(True)), not_(seen(not_(SessionState.up))))
    return not_(seen())


def _members(
    exchange: Exchange, given: RosterFilter
) -> Select[int, int, str, MemberStatus, str | None, str | None, int, int]:
    query, status, rs, state = _checked(exchange, given)
    members = select(
        Member.id,
        Member.asn,
        Member.display_name,
        Member.status,
        Member.as_set_v4,
        Member.as_set_v6,
        Member.max_prefix_v4,
        Member.max_prefix_v6,
    ).where(Member.exchange_id == exchange.id)
    if query is not None:
        by_name = or_(
            Member.display_name.icontains(query, autoescape=True),
            Member.legal_name.icontains(query, autoescape=True),
        )
        number = _ASN_SEARCH.fullmatch(query)
        members = members.where(
            or_(by_name, Member.asn == int(number.group(1))) if number else by_name
        )
    if status is not None:
        members = members.where(Member.status == status)
    if rs is not None:
        members = members.where(
            Member.rs_sessions.any(
                (RsSession.route_server_id == rs.id)
                & (RsSession.ipv4_enabled | RsSession.ipv6_enabled)
            )
        )
    if state is not None:
        members = members.where(_state_condition(state, rs))
    return members


def _registry(rows: set[IrrDataState]) -> RegistryState:
    """Which data a member's filter is built from, given which registry rows it has."""
    if IrrDataState.current in rows:
        return RegistryState.held if IrrDataState.pending in rows else RegistryState.current
    return RegistryState.first_held if rows else RegistryState.missing


def _as_set(asn: int, v4: str | None, v6: str | None) -> str:
    own = f"AS{asn}"
    first, second = (v4 or own).upper(), (v6 or own).upper()
    return first if first == second else f"{first} / {second}"


Rosters = VersionedCache[Roster]
# What a page of the table is read from: the members and their sessions, what the
# monitor saw (session states, alerts), the registry rows and the ROAs.
_READS = (versions.MEMBERS, versions.SESSIONS, versions.IRR, versions.RPKI)


def roster(
    session: Session,
    given: RosterFilter,
    *,
    limit: int,
    offset: int,
    exchange: Exchange | None = None,
    cache: Rosters | None = None,
) -> Roster:
    """One page of the members table (by ASN) and how many members match in all.

    A bad filter value is a ``ValidationError`` naming its field (``q``,
    ``status``, ``route_server``, ``state``), all of them at once. With ``cache``,
    a page built while everything it reads was as it is now is reused (one query
    for the versions instead of seven): operators reloading the table between two
    rounds of the monitor see the same page.
    """
    exchange = exchange or get_exchange(session)
    if cache is None:
        return _roster(session, given, limit, offset, exchange)
    return cache.get(
        (exchange.id, given, limit, offset),
        versions.current_of(session, _READS),
        lambda: _roster(session, given, limit, offset, exchange),
    )


def _roster(
    session: Session, given: RosterFilter, limit: int, offset: int, exchange: Exchange
) -> Roster:
    members = _members(exchange, given)
    total = session.scalar(select(func.count()).select_from(members.subquery())) or 0
    page = members.order_by(Member.asn).limit(limit).offset(offset)
    rows = session.execute(page).all()
    ids = page.with_only_columns(Member.id).scalar_subquery()
    asns = page.with_only_columns(Member.asn).scalar_subquery()
    names = {rs.id: rs.name for rs in exchange.route_servers}

    configured: defaultdict[int, list[tuple[str, str]]] = defaultdict(list)
    for member_id, rs_id, ipv4, ipv6 in session.execute(
        select(
            RsSession.member_id,
            RsSession.route_server_id,
            RsSession.ipv4_enabled,
            RsSession.ipv6_enabled,
        ).where(RsSession.member_id.in_(ids))
    ):
        for family, enabled in (("ipv4", ipv4), ("ipv6", ipv6)):
            if enabled:
                configured[member_id].append((names[rs_id], family))
    seen: defaultdict[int, dict[tuple[str, str], SessionState]] = defaultdict(dict)
    for state in session.scalars(select(SessionState).where(SessionState.asn.in_(asns))):
        assert state.asn is not None
        seen[state.asn][(names.get(state.route_server_id, "?"), state.family)] = state
    registries: defaultdict[int, set[IrrDataState]] = defaultdict(set)
    fetched: dict[int, dt.datetime] = {}
    for member_id, row_state, fetched_at in session.execute(
        select(IrrPrefixData.member_id, IrrPrefixData.state, IrrPrefixData.fetched_at).where(
            IrrPrefixData.member_id.in_(ids)
        )
    ):
        registries[member_id].add(row_state)
        if row_state is IrrDataState.current:
            fetched[member_id] = fetched_at
    roas = dict(
        session.execute(
            select(RpkiRoa.asn, func.count()).where(RpkiRoa.asn.in_(asns)).group_by(RpkiRoa.asn)
        ).all()
    )
    invalid = set(
        session.scalars(
            select(Alert.asn).where(
                Alert.asn.in_(asns), Alert.closed_at.is_(None), Alert.rule == Rule.rpki_invalid
            )
        )
    )

    def badges(member_id: int, asn: int, limits: dict[str, int]) -> tuple[SessionBadge, ...]:
        states = seen.get(asn, {})
        keys = sorted({*configured.get(member_id, []), *states})
        result = []
        for key in keys:
            state = states.get(key)
            limit = (state.import_limit if state else None) or limits.get(key[1], 0)
            if state is None:
                result.append(SessionBadge(*key, None, "not seen", 0, 0, limit))
            else:
                badge = SessionBadge(
                    *key, state.up, state.state, state.imported, state.filtered, limit
                )
                result.append(badge)
        return tuple(result)

    table = tuple(
        RosterRow(
            asn=asn,
            name=name,
            status=status,
            as_set=_as_set(asn, as_set_v4, as_set_v6),
            sessions=badges(member_id, asn, {"ipv4": max4, "ipv6": max6}),
            registry=_registry(registries.get(member_id, set())),
            registry_fetched_at=fetched.get(member_id),
            roas=roas.get(asn, 0),
            rpki_invalid=asn in invalid,
        )
        for member_id, asn, name, status, as_set_v4, as_set_v6, max4, max6 in rows
    )
    route_servers = tuple(sorted(names.values()))
    return Roster(table, total, route_servers)


def session_filter_choices() -> tuple[str, ...]:
    """The values of the table's session-state filter, for a form's choices."""
    return tuple(s.value for s in SessionFilter)


def status_choices() -> tuple[str, ...]:
    """The member statuses, for a form's choices."""
    return tuple(s.value for s in MemberStatus)
