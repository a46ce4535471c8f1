"""Onboarding and maintaining members: the service functions the CLI and the API share.

Every change follows one pattern: normalise and validate the whole input, every
field of it, so that all that is wrong is reported at once (one
``ValidationError`` naming the field and value, or an ``InvalidInput`` holding
one per bad field); check it against the database (duplicate ASN, address or
MAC: ``Conflict``); then write the rows and an audit entry in one transaction.
A failure anywhere leaves the database as it was.

What callers get back is a ``MemberView``: the member as plain, typed data that
the CLI prints (``--json`` is exactly its fields) and the API will serve. The
audit log records its own snapshot (``ixp.audit.member_snapshot``), so renaming
a field of the view never changes what the history says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from ixp import addressing, audit, validate, versions
from ixp.db import transaction
from ixp.errors import Conflict, NotFound, Problems, ValidationError
from ixp.exchange import get_exchange, get_route_server, peering_lan
from ixp.models import (
    Connection,
    Exchange,
    LanAddress,
    MacAddress,
    MaxPrefixAction,
    Member,
    MemberStatus,
    PeeringLan,
    RouteServer,
    RsSession,
)
from ixp.versions import VersionedCache


@dataclass
class MemberInput:
    """A new member as an operator (or an IX-F file) describes it, before validation."""

    asn: int | str
    name: str
    max_prefix_v4: int
    max_prefix_v6: int
    legal_name: str | None = None
    as_set: str | None = None
    as_set_v4: str | None = None
    as_set_v6: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    auto_ip: bool = False
    macs: Sequence[str] = ()
    speed_mbps: int | None = None
    status: str = "active"
    max_prefix_action: str = "restart"
    peeringdb_id: int | None = None
    noc_email: str | None = None
    noc_phone: str | None = None
    peering_email: str | None = None
    url: str | None = None
    joined: dt.date | None = None
    announcement_control: bool = True
    blackholing: bool = False
    third_party_next_hop: bool = False
    rs_ipv4: bool = True
    rs_ipv6: bool = True


def _enum(kind: type[MemberStatus] | type[MaxPrefixAction], name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return kind(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise ValidationError(
                name, validate.shown(value), f"must be one of {allowed}"
            ) from None

    return check


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, name: None if value in (None, "") else check(value, name)


def _peeringdb_id(value: Any, name: str) -> int:
    return validate.positive(value, name, maximum=2**31 - 1)


def _speed(value: Any, name: str) -> int:
    return validate.positive(value, name, maximum=10_000_000)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(name, validate.shown(value), "must be true or false")
    return value


def _date(value: Any, name: str) -> dt.date:
    """A calendar date: a ``date`` (a ``datetime`` gives its day) or ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(name, validate.shown(value), "is not a date (YYYY-MM-DD)")


# Member columns that can be set directly: input field -> (column, validator).
_COLUMNS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "name": ("display_name", lambda v, n: validate.text(v, n)),
    "legal_name": ("legal_name", lambda v, n: validate.text(v, n)),
    "as_set_v4": ("as_set_v4", _optional(validate.as_set)),
    "as_set_v6": ("as_set_v6", _optional(validate.as_set)),
    "max_prefix_v4": ("max_prefix_v4", lambda v, n: validate.positive(v, n)),
    "max_prefix_v6": ("max_prefix_v6", lambda v, n: validate.positive(v, n)),
    "max_prefix_action": ("max_prefix_action", lambda v, n: _enum(MaxPrefixAction, n)(v)),
    "status": ("status", lambda v, n: _enum(MemberStatus, n)(v)),
    "peeringdb_id": ("peeringdb_id", _optional(_peeringdb_id)),
    "noc_email": ("noc_email", _optional(validate.email)),
    "noc_phone": ("noc_phone", _optional(lambda v, n: validate.text(v, n, max_length=64))),
    "peering_email": ("peering_email", _optional(validate.email)),
    "url": ("url", _optional(lambda v, n: validate.text(v, n, max_length=500))),
    "joined": ("joined", _optional(_date)),
    "announcement_control": ("announcement_control", _flag),
    "blackholing": ("blackholing", _flag),
    "third_party_next_hop": ("third_party_next_hop", _flag),
}


def _normalise_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Validate the directly settable fields, every one; returns column -> value."""
    problems = Problems()
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _COLUMNS:
            problems.add(ValidationError(name, validate.shown(value), "is not a member field"))
            continue
        column, check = _COLUMNS[name]
        columns[column] = problems.check(check, value, name)
    problems.raise_any()
    return columns


def _macs(values: Sequence[str]) -> list[str]:
    """The MAC addresses, normalised, sorted and without duplicates; every bad one reported."""
    problems = Problems()
    macs = {problems.check(validate.mac, value, "macs") for value in values}
    problems.raise_any()
    return sorted(mac for mac in macs if mac is not None)


def _given_addresses(lan: PeeringLan, addresses: dict[int, str]) -> dict[int, str]:
    """The given LAN addresses by family, each checked to be a usable host of the LAN."""
    problems = Problems()
    checked = {
        family: problems.check(addressing.check_in_lan, value, f"ipv{family}", lan, family)
        for family, value in addresses.items()
    }
    problems.raise_any()
    return {family: value for family, value in checked.items() if value is not None}


@dataclass(frozen=True)
class RouteServerSessions:
    """A member's sessions with one route server: which families are enabled."""

    name: str
    ipv4_enabled: bool
    ipv6_enabled: bool


@dataclass(frozen=True)
class MemberView:
    """A member as the CLI shows it and the API serves it; field names are ``MemberInput``'s."""

    asn: int
    name: str
    legal_name: str | None
    status: MemberStatus
    as_set_v4: str | None
    as_set_v6: str | None
    max_prefix_v4: int
    max_prefix_v6: int
    max_prefix_action: MaxPrefixAction
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    macs: tuple[str, ...]
    speed_mbps: int | None
    peeringdb_id: int | None
    noc_email: str | None
    noc_phone: str | None
    peering_email: str | None
    url: str | None
    joined: dt.date | None
    announcement_control: bool
    blackholing: bool
    third_party_next_hop: bool
    route_servers: tuple[RouteServerSessions, ...]

    @classmethod
    def of(cls, member: Member) -> MemberView:
        """The view of a member loaded with its addresses, connections and sessions."""
        parts = _Parts(
            addresses=[(a.family, a.address) for a in member.addresses],
            macs=[m.mac for c in member.connections for m in c.macs],
            speeds=[c.speed_mbps for c in member.connections],
            sessions=[
                RouteServerSessions(s.route_server.name, s.ipv4_enabled, s.ipv6_enabled)
                for s in member.rs_sessions
            ],
        )
        return cls.build({name: getattr(member, c.key) for name, c in _OWN.items()}, parts)

    @classmethod
    def build(cls, own: Mapping[str, Any], parts: _Parts) -> MemberView:
        """The view of a member's own columns (``own``: ``_OWN``'s fields and their values)
        and ``parts``, its rows in other tables."""
        return cls(
            **own,
            ipv4=tuple(address for family, address in parts.addresses if family == 4),
            ipv6=tuple(address for family, address in parts.addresses if family == 6),
            macs=tuple(sorted(parts.macs)),
            speed_mbps=sum(speed or 0 for speed in parts.speeds) or None,
            route_servers=tuple(sorted(parts.sessions, key=lambda s: s.name)),
        )


# The view's fields that are the member's own columns. A listing selects just these and
# reads them by position: by name, a row's 18 values cost more than building the view.
_OWN: dict[str, InstrumentedAttribute[Any]] = {
    "asn": Member.asn,
    "name": Member.display_name,
    "legal_name": Member.legal_name,
    "status": Member.status,
    "as_set_v4": Member.as_set_v4,
    "as_set_v6": Member.as_set_v6,
    "max_prefix_v4": Member.max_prefix_v4,
    "max_prefix_v6": Member.max_prefix_v6,
    "max_prefix_action": Member.max_prefix_action,
    "peeringdb_id": Member.peeringdb_id,
    "noc_email": Member.noc_email,
    "noc_phone": Member.noc_phone,
    "peering_email": Member.peering_email,
    "url": Member.url,
    "joined": Member.joined,
    "announcement_control": Member.announcement_control,
    "blackholing": Member.blackholing,
    "third_party_next_hop": Member.third_party_next_hop,
}


@dataclass
class _Parts:
    """A member's rows in other tables, as its view needs them."""

    addresses: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    macs: list[str] = dataclasses.field(default_factory=list)
    speeds: list[int | None] = dataclasses.field(default_factory=list)
    sessions: list[RouteServerSessions] = dataclasses.field(default_factory=list)


def _parts_of(session: Session, page: Select[tuple[int]]) -> dict[int, _Parts]:
    """The parts of the members ``page`` selects (their ids), in three plain queries.

    Loading them as ORM objects cost ten times as much for a page of a listing, and
    naming the members' ids one by one in each query cost more than the queries.
    """
    chosen = page.scalar_subquery()
    parts: defaultdict[int, _Parts] = defaultdict(_Parts)
    addresses = select(LanAddress.member_id, LanAddress.family, LanAddress.address)
    for member_id, family, address in session.execute(
        addresses.where(LanAddress.member_id.in_(chosen)).order_by(LanAddress.id)
    ):
        parts[member_id].addresses.append((family, address))
    ports = select(Connection.member_id, Connection.id, Connection.speed_mbps, MacAddress.mac)
    seen: set[int] = set()
    for member_id, connection_id, speed, mac in session.execute(
        ports.outerjoin(MacAddress).where(Connection.member_id.in_(chosen))
    ):
        if connection_id not in seen:
            seen.add(connection_id)
            parts[member_id].speeds.append(speed)
        if mac is not None:
            parts[member_id].macs.append(mac)
    sessions = select(
        RsSession.member_id, RouteServer.name, RsSession.ipv4_enabled, RsSession.ipv6_enabled
    ).join(RouteServer)
    for member_id, name, ipv4, ipv6 in session.execute(
        sessions.where(RsSession.member_id.in_(chosen))
    ):
        parts[member_id].sessions.append(RouteServerSessions(name, ipv4, ipv6))
    return parts


def _member_query(exchange: Exchange) -> Select[Member]:
    return (
        select(Member)
        .where(Member.exchange_id == exchange.id)
        .options(
            selectinload(Member.addresses),
            selectinload(Member.connections).selectinload(Connection.macs),
            selectinload(Member.rs_sessions).selectinload(RsSession.route_server),
        )
    )


def get_member(session: Session, asn: int | str, exchange: Exchange | None = None) -> Member:
    """The member with ``asn`` on the exchange."""
    exchange = exchange or get_exchange(session)
    number = validate.asn(asn, "asn", allow_lab=True)
    member = session.scalar(_member_query(exchange).where(Member.asn == number))
    if member is None:
        raise _not_a_member(number, exchange)
    return member


def _not_a_member(number: int, exchange: Exchange) -> NotFound:
    return NotFound(f"AS{number} is not a member of {exchange.name}", field="member")


def check_member(session: Session, asn: int | str, exchange: Exchange | None = None) -> int:
    """``asn`` as a number if it is a member of the exchange (``get_member``'s NotFound if
    not), in one small query: for reads that only need to know the member exists."""
    exchange = exchange or get_exchange(session)
    number = validate.asn(asn, "asn", allow_lab=True)
    query = select(Member.id).where(Member.exchange_id == exchange.id, Member.asn == number)
    if session.scalar(query) is None:
        raise _not_a_member(number, exchange)
    return number


@dataclass(frozen=True)
class MemberFilter:
    """Which members a listing shows; every given condition must hold.

    ``route_server`` keeps the members with a session (either family) on that
    route server; ``name`` is a case-insensitive part of the display or legal name.
    """

    status: str | None = None
    asn: int | str | None = None
    route_server: str | None = None
    name: str | None = None


def _filtered(
    session: Session, query: Select[Member], exchange: Exchange, given: MemberFilter
) -> Select[Member]:
    """``query`` narrowed by ``given``; every bad condition is reported at once."""
    problems = Problems()
    status = problems.check(
        _optional(lambda v, n: _enum(MemberStatus, n)(v)), given.status, "status"
    )
    number = problems.check(
        _optional(lambda v, n: validate.asn(v, n, allow_lab=True)), given.asn, "asn"
    )
    name = problems.check(_optional(validate.text), given.name, "name")
    problems.raise_any()
    if status is not None:
        query = query.where(Member.status == status)
    if number is not None:
        query = query.where(Member.asn == number)
    if name is not None:
        query = query.where(
            Member.display_name.icontains(name, autoescape=True)
            | Member.legal_name.icontains(name, autoescape=True)
        )
    if given.route_server is not None:
        rs = get_route_server(session, given.route_server, exchange)
        query = query.where(
            Member.rs_sessions.any(
                (RsSession.route_server_id == rs.id)
                & (RsSession.ipv4_enabled | RsSession.ipv6_enabled)
            )
        )
    return query


def list_members(
    session: Session,
    exchange: Exchange | None = None,
    *,
    status: str | None = None,
    where: MemberFilter | None = None,
) -> list[Member]:
    """Members of the exchange ordered by ASN, optionally of one status or matching ``where``.

    Addresses, MACs and sessions are loaded with a fixed number of queries, however
    many members there are.
    """
    exchange = exchange or get_exchange(session)
    given = where or MemberFilter()
    if status is not None:
        given = dataclasses.replace(given, status=status)
    query = _filtered(session, _member_query(exchange).order_by(Member.asn), exchange, given)
    return list(session.scalars(query))


def show_member(
    session: Session,
    asn: int | str,
    exchange: Exchange | None = None,
    *,
    cache: MemberPages | None = None,
) -> MemberView:
    """The member with ``asn``, as a view; with ``cache``, the one-member page of
    ``member_page`` kept at the members' current data version."""
    if cache is None:
        return MemberView.of(get_member(session, asn, exchange))
    exchange = exchange or get_exchange(session)
    number = validate.asn(asn, "asn", allow_lab=True)
    found, _total = member_page(
        session, MemberFilter(asn=number), limit=1, offset=0, exchange=exchange, cache=cache
    )
    if not found:
        raise _not_a_member(number, exchange)
    return found[0]


def show_members(
    session: Session,
    exchange: Exchange | None = None,
    *,
    status: str | None = None,
    where: MemberFilter | None = None,
) -> list[MemberView]:
    """The members of the exchange by ASN (optionally of one status, or matching ``where``),
    as views."""
    return [MemberView.of(m) for m in list_members(session, exchange, status=status, where=where)]


MemberPages = VersionedCache[tuple[tuple[MemberView, ...], int]]


def member_page(
    session: Session,
    where: MemberFilter,
    *,
    limit: int,
    offset: int,
    exchange: Exchange | None = None,
    cache: MemberPages | None = None,
) -> tuple[list[MemberView], int]:
    """One page of ``show_members`` (by ASN) and how many members match in all.

    The page is cut in the database: a request for 100 of 1,000 members loads 100,
    in five queries. With ``cache``, a page already built at the members' current
    data version is reused (one query to read the version).
    """
    exchange = exchange or get_exchange(session)
    if cache is None:
        return _member_page(session, where, limit, offset, exchange)
    key = (exchange.id, where, limit, offset)
    version = versions.current(session, versions.MEMBERS)
    views, total = cache.get(
        key, version, lambda: _frozen(_member_page(session, where, limit, offset, exchange))
    )
    return list(views), total


def _frozen(page: tuple[list[MemberView], int]) -> tuple[tuple[MemberView, ...], int]:
    return tuple(page[0]), page[1]


def _member_page(
    session: Session, where: MemberFilter, limit: int, offset: int, exchange: Exchange
) -> tuple[list[MemberView], int]:
    members = _filtered(
        session, select(Member).where(Member.exchange_id == exchange.id), exchange, where
    )
    total = session.scalar(select(func.count()).select_from(members.subquery())) or 0
    page = members.order_by(Member.asn).limit(limit).offset(offset)
    parts = _parts_of(session, page.with_only_columns(Member.id))
    rows = session.execute(page.with_only_columns(Member.id, *_OWN.values()))
    names = tuple(_OWN)
    views = [MemberView.build(dict(zip(names, own, strict=True)), parts[id_]) for id_, *own in rows]
    return views, total


def _check_mac_free(session: Session, mac: str, owner: Member | None) -> None:
    holder = session.scalar(
        select(Member).join(Connection).join(MacAddress).where(MacAddress.mac == mac)
    )
    if holder is not None and holder is not owner:
        raise Conflict(f"is already used by AS{holder.asn}", field="macs", value=mac)


@dataclass(frozen=True)
class _CheckedMember:
    """A new member's input, every field valid (nothing checked against other members yet)."""

    asn: int
    columns: dict[str, Any]
    addresses: dict[int, str]
    macs: list[str]
    speed_mbps: int | None


def _columns_of(data: MemberInput, as_set: str | None) -> dict[str, Any]:
    """The member's directly settable fields, before validation; ``as_set`` (for both
    families) is already valid. Without a legal name, the name is used (checked once)."""
    return {
        "name": data.name,
        **({"legal_name": data.legal_name} if data.legal_name else {}),
        "as_set_v4": data.as_set_v4 or as_set,
        "as_set_v6": data.as_set_v6 or as_set,
        "max_prefix_v4": data.max_prefix_v4,
        "max_prefix_v6": data.max_prefix_v6,
        "max_prefix_action": data.max_prefix_action,
        "status": data.status,
        "peeringdb_id": data.peeringdb_id,
        "noc_email": data.noc_email,
        "noc_phone": data.noc_phone,
        "peering_email": data.peering_email,
        "url": data.url,
        "joined": data.joined,
        "announcement_control": data.announcement_control,
        "blackholing": data.blackholing,
        "third_party_next_hop": data.third_party_next_hop,
    }


def _check_input(data: MemberInput, lan: PeeringLan, *, allow_lab: bool) -> _CheckedMember:
    """Every field of ``data`` validated; every bad one reported at once."""
    problems = Problems()
    number = problems.check(validate.asn, data.asn, "asn", allow_lab=allow_lab)
    as_set = problems.check(_optional(validate.as_set), data.as_set, "as_set")
    columns = problems.check(_normalise_columns, _columns_of(data, as_set))
    given = {f: a for f, a in ((4, data.ipv4), (6, data.ipv6)) if a}
    addresses = problems.check(_given_addresses, lan, given)
    if not given and not data.auto_ip:
        problems.add(ValidationError("ipv4", None, "or ipv6 must be given (or use auto_ip)"))
    macs = problems.check(_macs, data.macs)
    speed = problems.check(_optional(_speed), data.speed_mbps, "speed_mbps")
    problems.raise_any()
    assert number is not None and columns is not None and addresses is not None and macs is not None
    columns.setdefault("legal_name", columns["display_name"])
    return _CheckedMember(number, columns, addresses, macs, speed)


def _claim_addresses(
    session: Session, exchange: Exchange, checked: _CheckedMember, *, auto_ip: bool
) -> list[tuple[int, str]]:
    """The new member's addresses, once its ASN, addresses and MACs are known to be free.

    Runs under the LAN's lock: what it finds free stays free until the commit,
    whoever else is adding a member at the same moment. Families not given are
    allocated with ``auto_ip`` when the LAN has a subnet of that family.
    """
    lan = peering_lan(exchange)
    addressing.lock_lan(session, lan)
    if session.scalar(
        select(Member.id).where(Member.exchange_id == exchange.id, Member.asn == checked.asn)
    ):
        raise Conflict(f"AS{checked.asn} is already a member of {exchange.name}", field="asn")
    result: list[tuple[int, str]] = []
    for family in (4, 6):
        given = checked.addresses.get(family)
        if given is not None:
            addressing.check_free(session, given, f"ipv{family}", lan, family)
            result.append((family, given))
        elif auto_ip and addressing.lan_subnet_or_none(lan, family) is not None:
            result.append((family, addressing.allocate(session, lan, family, checked.asn)))
    for mac in checked.macs:
        _check_mac_free(session, mac, None)
    return result


def add_member(
    session: Session,
    data: MemberInput,
    *,
    exchange: Exchange | None = None,
    allow_lab: bool = False,
    actor: str,
) -> MemberView:
    """Onboard a member: validate everything, then create it with addresses, port and sessions."""
    exchange = exchange or get_exchange(session)
    lan = peering_lan(exchange)
    checked = _check_input(data, lan, allow_lab=allow_lab)
    with transaction(session):
        addresses = _claim_addresses(session, exchange, checked, auto_ip=data.auto_ip)
        member = Member(exchange=exchange, asn=checked.asn, **checked.columns)
        member.connections.append(
            Connection(
                lan=lan,
                speed_mbps=checked.speed_mbps,
                macs=[MacAddress(mac=m) for m in checked.macs],
            )
        )
        member.addresses.extend(LanAddress(lan=lan, family=f, address=a) for f, a in addresses)
        member.rs_sessions.extend(
            RsSession(route_server=rs, ipv4_enabled=data.rs_ipv4, ipv6_enabled=data.rs_ipv6)
            for rs in exchange.route_servers
        )
        session.add(member)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="member",
            key=f"AS{checked.asn}",
            after=audit.member_snapshot(member),
        )
    return MemberView.of(member)


def update_member(
    session: Session,
    asn: int | str,
    changes: dict[str, Any],
    *,
    exchange: Exchange | None = None,
    actor: str,
) -> MemberView:
    """Change some fields of a member; ``ipv4``/``ipv6``/``macs``/``as_set`` are handled too,
    as are ``speed_mbps`` (of its first connection) and ``rs_ipv4``/``rs_ipv6`` (its
    sessions with every route server).

    Every given field is validated before anything is checked against other
    members, and every bad one is reported at once. An empty string for
    ``ipv4`` or ``ipv6`` removes that address. A change of addresses or MACs
    reads and writes under the LAN's lock, taken before the member is read,
    like ``add_member`` does.
    """
    exchange = exchange or get_exchange(session)
    with transaction(session):
        if _LAN_FIELDS & changes.keys():
            addressing.lock_lan(session, peering_lan(exchange))
        member = get_member(session, asn, exchange)
        _apply_changes(session, member, _check_changes(member, changes), actor)
    return MemberView.of(member)


# Changes that take or free something unique on the peering LAN.
_LAN_FIELDS = frozenset({"ipv4", "ipv6", "macs"})


@dataclass(frozen=True)
class _CheckedChanges:
    """A member's changes, every field valid; ``addresses`` maps a family to its new
    address, or to None to remove it."""

    columns: dict[str, Any]
    addresses: dict[int, str | None]
    macs: list[str] | None
    rs_flags: dict[int, bool]
    speed_mbps: int | None
    speed_given: bool


def _check_changes(member: Member, given: dict[str, Any]) -> _CheckedChanges:
    """Every field of ``given`` validated; every bad one reported at once."""
    problems = Problems()
    changes = dict(given)
    if "as_set" in changes:
        both = problems.check(_optional(validate.as_set), changes.pop("as_set"), "as_set")
        changes.setdefault("as_set_v4", both)
        changes.setdefault("as_set_v6", both)
    raw_addresses = {f: changes.pop(f"ipv{f}") for f in (4, 6) if f"ipv{f}" in changes}
    raw_macs = changes.pop("macs", None)
    raw_flags = {f: changes.pop(f"rs_ipv{f}") for f in (4, 6) if f"rs_ipv{f}" in changes}
    speed_given = "speed_mbps" in changes
    raw_speed = changes.pop("speed_mbps", None)
    columns = problems.check(_normalise_columns, changes)
    new = {f: a for f, a in raw_addresses.items() if a}
    addresses = problems.check(_given_addresses, peering_lan(member.exchange), new)
    macs = problems.check(_macs, raw_macs) if raw_macs is not None else None
    flags = {f: problems.check(_flag, v, f"rs_ipv{f}") for f, v in raw_flags.items()}
    speed = problems.check(_optional(_speed), raw_speed, "speed_mbps")
    kept = {a.family for a in member.addresses if a.family not in raw_addresses}
    if not kept and not new:
        problems.add(
            ValidationError("ipv4", None, "or ipv6 must remain: a member needs an address")
        )
    problems.raise_any()
    assert columns is not None and addresses is not None
    return _CheckedChanges(
        columns=columns,
        addresses={f: addresses.get(f) for f in raw_addresses},
        macs=macs,
        rs_flags={f: flag for f, flag in flags.items() if flag is not None},
        speed_mbps=speed,
        speed_given=speed_given,
    )


def _replace_address(session: Session, member: Member, family: int, address: str | None) -> None:
    """Give ``member`` ``address`` (already validated) as its one address of ``family``;
    None removes it."""
    lan = peering_lan(member.exchange)
    current = [a for a in member.addresses if a.family == family]
    if address is not None:
        owner = f"AS{member.asn}"
        addressing.check_free(session, address, f"ipv{family}", lan, family, owner=owner)
    for old in current:
        member.addresses.remove(old)
    if address is not None:
        session.flush()
        member.addresses.append(LanAddress(lan=lan, family=family, address=address))


def _apply_changes(session: Session, member: Member, changes: _CheckedChanges, actor: str) -> None:
    """Write valid ``changes`` and the audit entry (inside the caller's transaction),
    once what they take on the LAN is known to be free."""
    before = audit.member_snapshot(member)
    for mac in changes.macs or ():
        _check_mac_free(session, mac, member)
    for column, value in changes.columns.items():
        setattr(member, column, value)
    for family, address in changes.addresses.items():
        _replace_address(session, member, family, address)
    if changes.macs is not None:
        connection = member.connections[0]
        connection.macs.clear()
        session.flush()
        connection.macs.extend(MacAddress(mac=m) for m in changes.macs)
    if changes.speed_given:
        member.connections[0].speed_mbps = changes.speed_mbps
    for rs_session in member.rs_sessions:
        rs_session.ipv4_enabled = changes.rs_flags.get(4, rs_session.ipv4_enabled)
        rs_session.ipv6_enabled = changes.rs_flags.get(6, rs_session.ipv6_enabled)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="member",
        key=f"AS{member.asn}",
        before=before,
        after=audit.member_snapshot(member),
    )


def suspend_member(
    session: Session, asn: int | str, *, exchange: Exchange | None = None, actor: str
) -> MemberView:
    """Stop a member's route-server sessions (they are left out of the next build) but keep it."""
    return update_member(session, asn, {"status": "suspended"}, exchange=exchange, actor=actor)


def remove_member(
    session: Session, asn: int | str, *, exchange: Exchange | None = None, actor: str
) -> MemberView:
    """Delete a member and free its addresses and MACs; returns what it was (so does the
    audit log)."""
    member = get_member(session, asn, exchange)
    removed = MemberView.of(member)
    before = audit.member_snapshot(member)
    with transaction(session):
        session.delete(member)
        audit.record(
            session,
            actor=actor,
            action="delete",
            entity="member",
            key=f"AS{member.asn}",
            before=before,
        )
    return removed
