"""Onboarding and maintaining members: the service functions the CLI and the API share.

Every change follows one pattern: normalise and validate the whole input
(errors name the field and value), check it against the database (duplicate
ASN, address or MAC), then write the rows and an audit entry in one
transaction. A failure anywhere leaves the database as it was.

What callers get back is a ``MemberView``: the member as plain, typed data that
the CLI prints (``--json`` is exactly its fields) and the API will serve. The
audit log records its own snapshot (``ixp.audit.member_snapshot``), so renaming
a field of the view never changes what the history says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ixp import addressing, audit, validate
from ixp.db import transaction
from ixp.errors import Conflict, NotFound, ValidationError
from ixp.exchange import get_exchange, peering_lan
from ixp.models import (
    Connection,
    Exchange,
    LanAddress,
    MacAddress,
    MaxPrefixAction,
    Member,
    MemberStatus,
    RsSession,
)


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
    extra: dict[str, Any] = field(default_factory=dict)


def _enum(kind: type[MemberStatus] | type[MaxPrefixAction], name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return kind(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise ValidationError(name, value, f"must be one of {allowed}") from None

    return check


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, name: None if value in (None, "") else check(value, name)


def _peeringdb_id(value: Any, name: str) -> int:
    return validate.positive(value, name, maximum=2**31 - 1)


def _speed(value: Any, name: str) -> int:
    return validate.positive(value, name, maximum=10_000_000)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(name, value, "must be true or false")
    return value


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
    "joined": ("joined", lambda v, n: v),
    "announcement_control": ("announcement_control", _flag),
    "blackholing": ("blackholing", _flag),
    "third_party_next_hop": ("third_party_next_hop", _flag),
}


def _normalise_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Validate the directly settable fields; returns column -> value."""
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _COLUMNS:
            raise ValidationError(name, value, "is not a member field")
        column, check = _COLUMNS[name]
        columns[column] = check(value, name)
    return columns


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
        return cls(
            asn=member.asn,
            name=member.display_name,
            legal_name=member.legal_name,
            status=member.status,
            as_set_v4=member.as_set_v4,
            as_set_v6=member.as_set_v6,
            max_prefix_v4=member.max_prefix_v4,
            max_prefix_v6=member.max_prefix_v6,
            max_prefix_action=member.max_prefix_action,
            ipv4=tuple(a.address for a in member.addresses if a.family == 4),
            ipv6=tuple(a.address for a in member.addresses if a.family == 6),
            macs=tuple(sorted(m.mac for c in member.connections for m in c.macs)),
            speed_mbps=sum(c.speed_mbps or 0 for c in member.connections) or None,
            peeringdb_id=member.peeringdb_id,
            noc_email=member.noc_email,
            noc_phone=member.noc_phone,
            peering_email=member.peering_email,
            url=member.url,
            joined=member.joined,
            announcement_control=member.announcement_control,
            blackholing=member.blackholing,
            third_party_next_hop=member.third_party_next_hop,
            route_servers=tuple(
                RouteServerSessions(s.route_server.name, s.ipv4_enabled, s.ipv6_enabled)
                for s in sorted(member.rs_sessions, key=lambda s: s.route_server.name)
            ),
        )


def _member_query(exchange: Exchange) -> Any:
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
        raise NotFound(f"AS{number} is not a member of {exchange.name}", field="member")
    return member


def list_members(
    session: Session, exchange: Exchange | None = None, *, status: str | None = None
) -> list[Member]:
    """Members of the exchange ordered by ASN, optionally of one status."""
    exchange = exchange or get_exchange(session)
    query = _member_query(exchange).order_by(Member.asn)
    if status is not None:
        query = query.where(Member.status == _enum(MemberStatus, "status")(status))
    return list(session.scalars(query))


def show_member(session: Session, asn: int | str, exchange: Exchange | None = None) -> MemberView:
    """The member with ``asn``, as a view."""
    return MemberView.of(get_member(session, asn, exchange))


def show_members(
    session: Session, exchange: Exchange | None = None, *, status: str | None = None
) -> list[MemberView]:
    """The members of the exchange by ASN (optionally of one status), as views."""
    return [MemberView.of(m) for m in list_members(session, exchange, status=status)]


def _check_mac_free(session: Session, mac: str, owner: Member | None) -> None:
    holder = session.scalar(
        select(Member).join(Connection).join(MacAddress).where(MacAddress.mac == mac)
    )
    if holder is not None and holder is not owner:
        raise Conflict(f"is already used by AS{holder.asn}", field="macs", value=mac)


def _addresses_for(
    session: Session, exchange: Exchange, data: MemberInput, asn: int
) -> list[tuple[int, str]]:
    """The (family, address) pairs of a new member: given ones checked, missing ones allocated."""
    lan = peering_lan(exchange)
    result: list[tuple[int, str]] = []
    for family, given in ((4, data.ipv4), (6, data.ipv6)):
        name = f"ipv{family}"
        if given:
            address = addressing.check_in_lan(given, name, lan, family)
            addressing.check_free(session, address, name, lan, family)
            result.append((family, address))
        elif data.auto_ip and addressing.lan_subnet_or_none(lan, family) is not None:
            result.append((family, addressing.allocate(session, lan, family, asn)))
    if not result:
        raise ValidationError("ipv4", None, "or ipv6 must be given (or use auto_ip)")
    return result


def _checked_against_database(
    session: Session, exchange: Exchange, data: MemberInput, asn: int, macs: Sequence[str]
) -> list[tuple[int, str]]:
    """The new member's addresses, once its ASN, addresses and MACs are known to be free.

    Runs under the LAN's lock: what it finds free stays free until the commit,
    whoever else is adding a member at the same moment.
    """
    addressing.lock_lan(session, peering_lan(exchange))
    if session.scalar(
        select(Member.id).where(Member.exchange_id == exchange.id, Member.asn == asn)
    ):
        raise Conflict(f"AS{asn} is already a member of {exchange.name}", field="asn")
    addresses = _addresses_for(session, exchange, data, asn)
    for mac in macs:
        _check_mac_free(session, mac, None)
    return addresses


def _as_sets(data: MemberInput) -> dict[str, Any]:
    both = validate.as_set(data.as_set, "as_set") if data.as_set else None
    return {
        "as_set_v4": data.as_set_v4 or both,
        "as_set_v6": data.as_set_v6 or both,
    }


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
    number = validate.asn(data.asn, "asn", allow_lab=allow_lab)
    columns = _normalise_columns(
        {
            "name": data.name,
            "legal_name": data.legal_name or data.name,
            **_as_sets(data),
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
    )
    macs = sorted({validate.mac(m, "macs") for m in data.macs})
    speed = _optional(_speed)(data.speed_mbps, "speed_mbps")
    lan = peering_lan(exchange)
    with transaction(session):
        addresses = _checked_against_database(session, exchange, data, number, macs)
        member = Member(exchange=exchange, asn=number, **columns)
        member.connections.append(
            Connection(lan=lan, speed_mbps=speed, macs=[MacAddress(mac=m) for m in macs])
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
            key=f"AS{number}",
            after=audit.member_snapshot(member),
        )
    return MemberView.of(member)


def _replace_address(session: Session, member: Member, family: int, value: str | None) -> None:
    lan = peering_lan(member.exchange)
    current = [a for a in member.addresses if a.family == family]
    name = f"ipv{family}"
    if value is None:
        for address in current:
            member.addresses.remove(address)
        return
    address = addressing.check_in_lan(value, name, lan, family)
    addressing.check_free(session, address, name, lan, family, owner=f"AS{member.asn}")
    for old in current:
        member.addresses.remove(old)
    session.flush()
    member.addresses.append(LanAddress(lan=lan, family=family, address=address))


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

    An empty string for ``ipv4`` or ``ipv6`` removes that address. A change of
    addresses or MACs reads and writes under the LAN's lock, taken before the
    member is read, like ``add_member`` does.
    """
    exchange = exchange or get_exchange(session)
    with transaction(session):
        if _LAN_FIELDS & changes.keys():
            addressing.lock_lan(session, peering_lan(exchange))
        member = get_member(session, asn, exchange)
        _apply_changes(session, member, dict(changes), actor)
    return MemberView.of(member)


# Changes that take or free something unique on the peering LAN.
_LAN_FIELDS = frozenset({"ipv4", "ipv6", "macs"})


def _apply_changes(session: Session, member: Member, changes: dict[str, Any], actor: str) -> None:
    """Validate ``changes`` and write them and the audit entry (inside the caller's transaction)."""
    before = audit.member_snapshot(member)
    if "as_set" in changes:
        both = changes.pop("as_set")
        changes.setdefault("as_set_v4", both)
        changes.setdefault("as_set_v6", both)
    addresses = {f: changes.pop(f"ipv{f}") for f in (4, 6) if f"ipv{f}" in changes}
    macs = changes.pop("macs", None)
    rs_flags = {
        f: _flag(changes.pop(f"rs_ipv{f}"), f"rs_ipv{f}") for f in (4, 6) if f"rs_ipv{f}" in changes
    }
    speed_given = "speed_mbps" in changes
    speed = _optional(_speed)(changes.pop("speed_mbps", None), "speed_mbps")
    columns = _normalise_columns(changes)
    new_macs = sorted({validate.mac(m, "macs") for m in macs}) if macs is not None else None
    for mac in new_macs or ():
        _check_mac_free(session, mac, member)
    for column, value in columns.items():
        setattr(member, column, value)
    for family, value in addresses.items():
        _replace_address(session, member, family, value or None)
    if new_macs is not None:
        connection = member.connections[0]
        connection.macs.clear()
        session.flush()
        connection.macs.extend(MacAddress(mac=m) for m in new_macs)
    if speed_given:
        member.connections[0].speed_mbps = speed
    for rs_session in member.rs_sessions:
        rs_session.ipv4_enabled = rs_flags.get(4, rs_session.ipv4_enabled)
        rs_session.ipv6_enabled = rs_flags.get(6, rs_session.ipv6_enabled)
    if not member.addresses:
        raise ValidationError("ipv4", None, "or ipv6 must remain: a member needs an address")
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
