"""IX-F Member Export (Euro-IX JSON schema 1.0): importing a member list, exporting ours.

The IX-F export is how an exchange tells PeeringDB, IXP Manager, arouteserver
and peering tools who is connected and with which addresses, AS-SETs and
max-prefix limits; importing one is how an operator moves an existing exchange
into ixp. Both directions use the onboarding service (``ixp.members``), so an
imported member passes exactly the checks ``ixp member add`` applies.

Import reads the whole file's structure first (one error naming the JSON key),
then creates or updates the exchange, its route servers and every member inside
one transaction: a bad member rejects the whole file, naming the member and the
field. Members are matched by ASN, and only fields that differ are written, so
importing the same file twice changes nothing. Members missing from the file are
left alone: an import adds and updates, it never removes.

A member has one LAN address per family (the onboarding service keeps one), so
a member whose connections carry two different addresses of a family is
refused with both named, rather than imported without one of them (the same
address on several connections is one address).

Where the schema puts things (version 1.0): the peering LAN is the ``vlan``
list of the ``ixp_list`` entry; route servers are ``member_list`` entries whose
``vlan_list`` addresses offer a service of type ``ixrouteserver`` (as IXP
Manager writes them); the schema has no field for the exchange's own ASN, so it
is taken from the route servers (or given by the caller).

Export is deterministic: keys and lists are sorted, and ``timestamp`` is when
the data last changed (the newest audit-log entry, or the imported file's own
timestamp when that import is the newest change), never the time of the export.
So export, import into an empty database and export again give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netaddr
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import audit, jsonload, validate
from ixp.db import transaction
from ixp.errors import IxpError, NotFound, ValidationError
from ixp.exchange import add_route_server, check_name, get_exchange, init_exchange, peering_lan
from ixp.members import (
    MemberInput,
    MemberView,
    add_member,
    get_member,
    list_members,
    update_member,
)
from ixp.models import AuditEntry, Exchange, Member, MemberStatus, RouteServer

SCHEMA_VERSION = "1.0"
# The ``ixp_id`` of our one infrastructure in exports ("free to set by the IXP").
EXPORT_IXP_ID = 1
# Used when a member's entry gives no max_prefix for a family (the field is optional).
DEFAULT_MAX_PREFIX = {4: 100, 6: 100}
# A VLAN "id" in IX-F is the IXP's own identifier, not always an 802.1Q tag.
DEFAULT_VLAN_TAG = 100
AUDIT_ENTITY = "ixf"
_EPOCH = "1970-01-01T00:00:00Z"
# Audit-log entities whose changes show in an export (ROA loads or IRR syncs do not).
_EXPORTED_ENTITIES = ("exchange", "route_server", "member", AUDIT_ENTITY)
_NOT_RS_NAME = re.compile(r"[^a-z0-9-]+")


class IxfError(ValidationError):
    """An IX-F file that cannot be imported: ``<JSON key or member>: <problem>``, one line.

    A ``ValidationError`` (the input is wrong, whatever the underlying cause)
    without a value: ``problem`` names it, or wraps the onboarding's own message.
    """

    def __init__(self, where: str, problem: str) -> None:
        IxpError.__init__(self, problem, field=where)


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """Choices an IX-F file cannot express: who imports, which infrastructure, the exchange's
    ASN, lab use."""

    actor: str
    ixp_id: int | None = None
    exchange_asn: int | str | None = None
    blackhole_ipv4: str | None = None
    blackhole_ipv6: str | None = None
    allow_lab: bool = False


@dataclass(frozen=True)
class ImportResult:
    """What an import did, by ASN (and route-server name)."""

    exchange: str
    exchange_created: bool
    route_servers_added: tuple[str, ...]
    created: tuple[int, ...]
    updated: tuple[int, ...]
    unchanged: tuple[int, ...]
    skipped: tuple[int, ...]

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything."""
        return bool(
            self.exchange_created or self.route_servers_added or self.created or self.updated
        )


def _audit_snapshot(timestamp: str, result: ImportResult) -> dict[str, Any]:
    """What the audit log records of an import (its own format; ``data_timestamp`` reads it)."""
    return {
        "timestamp": timestamp,
        "exchange": result.exchange,
        "exchange_created": result.exchange_created,
        "route_servers_added": list(result.route_servers_added),
        "created": list(result.created),
        "updated": list(result.updated),
        "unchanged": list(result.unchanged),
        "skipped": list(result.skipped),
    }


@dataclass(frozen=True)
class _Lan:
    where: str
    vlan_where: str
    name: str
    country: str
    url: str | None
    ixp_id: int
    ixf_vlan_id: int | None
    vlan_tag: int
    lan_v4: str | None
    lan_v6: str | None


@dataclass(frozen=True)
class _RouteServer:
    where: str
    name: str
    asn: int
    ipv4: str | None
    ipv6: str | None


@dataclass
class ParsedDocument:
    """What an IX-F file says, its structure checked, before anything is written."""

    timestamp: str
    lan: _Lan
    route_servers: list[_RouteServer] = field(default_factory=list)
    members: list[tuple[str, MemberInput]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


# --- reading the structure -------------------------------------------------------------------


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "an integer",
        bool: "true/false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def _get(
    obj: Mapping[str, Any],
    key: str,
    where: str,
    kind: type | tuple[type, ...],
    *,
    required: bool = False,
) -> Any:
    """``obj[key]`` checked to be of ``kind``; None when absent and not required."""
    path = f"{where}.{key}" if where else key
    if key not in obj or obj[key] is None:
        if required:
            raise IxfError(path, "required key is missing")
        return None
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    is_bool = isinstance(value, bool)
    if not isinstance(value, kinds) or (is_bool and bool not in kinds):
        raise IxfError(path, f"{validate.quoted(value)} is not {_type_name(kind)}")
    return value


def _items(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> list[Any]:
    """A list of objects at ``obj[key]`` (empty when absent)."""
    values = _get(obj, key, where, list, required=required) or []
    for index, item in enumerate(values):
        if not isinstance(item, dict):
            raise IxfError(
                f"{where}.{key}[{index}]" if where else f"{key}[{index}]", "is not an object"
            )
    return values


def _timestamp(value: str) -> str:
    """An ISO 8601 date-time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise IxfError(
            "timestamp", f"{validate.quoted(value)} is not an ISO 8601 date-time"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return _format_time(parsed)


def _format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise IxfError(where, f"{validate.quoted(value)} is not an ISO 8601 date-time") from None


def _subnet(vlan: Mapping[str, Any], family: int, where: str) -> str | None:
    info = _get(vlan, f"ipv{family}", where, dict)
    if info is None:
        return None
    path = f"{where}.ipv{family}"
    prefix = _get(info, "prefix", path, str, required=True)
    length = _get(info, "mask_length", path, int, required=True)
    return f"{prefix}/{length}"


def _read_lan(document: Mapping[str, Any], ixp_id: int | None) -> _Lan:
    """The chosen ``ixp_list`` entry and its first VLAN with a subnet."""
    entries = _items(document, "ixp_list", "", required=True)
    if not entries:
        raise IxfError("ixp_list", "is empty: the file describes no exchange")
    indexed = list(enumerate(entries))
    if ixp_id is not None:
        indexed = [(i, e) for i, e in indexed if e.get("ixp_id") == ixp_id]
        if not indexed:
            raise IxfError("ixp_list", f"no entry has ixp_id {ixp_id}")
    elif len(indexed) != 1:
        raise IxfError("ixp_list", f"has {len(indexed)} entries; choose one by its ixp_id")
    index, entry = indexed[0]
    where = f"ixp_list[{index}]"
    chosen_id = _get(entry, "ixp_id", where, int, required=True)
    shortname = _get(entry, "shortname", where, str, required=True)
    long_name = _get(entry, "name", where, str)
    # Checked here, not only when the exchange is created: it is looked up by name first.
    if long_name:
        name = check_name(long_name, f"{where}.name")
    else:
        name = check_name(shortname, f"{where}.shortname")
    country = _get(entry, "country", where, str, required=True)
    url = _get(entry, "url", where, str)
    for vlan_index, vlan in enumerate(_items(entry, "vlan", where, required=True)):
        vlan_where = f"{where}.vlan[{vlan_index}]"
        lan_v4 = _subnet(vlan, 4, vlan_where)
        lan_v6 = _subnet(vlan, 6, vlan_where)
        if lan_v4 or lan_v6:
            vlan_id = _get(vlan, "id", vlan_where, int)
            tag = vlan_id if vlan_id is not None and 1 <= vlan_id <= 4094 else DEFAULT_VLAN_TAG
            return _Lan(
                where, vlan_where, name, country, url, chosen_id, vlan_id, tag, lan_v4, lan_v6
            )
    raise IxfError(f"{where}.vlan", "has no VLAN with an ipv4 or ipv6 prefix")


@dataclass
class _MemberParts:
    """What a member entry says about one exchange, gathered over its connections."""

    address: dict[int, str] = field(default_factory=dict)
    as_macro: dict[int, str] = field(default_factory=dict)
    max_prefix: dict[int, int] = field(default_factory=dict)
    routeserver: dict[int, bool] = field(default_factory=dict)
    macs: list[str] = field(default_factory=list)
    speed: int = 0
    state: str | None = None
    route_servers: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def _add_address(parts: _MemberParts, family: int, address: str, where: str, asn: int) -> None:
    """Record a member's address of ``family``; a second, different one refuses the file."""
    first = parts.address.setdefault(family, address)
    if not _same_address(first, address):
        raise IxfError(
            f"{where}.address",
            f"AS{asn} has a second IPv{family} address {validate.quoted(address)} (the first is "
            f"{validate.quoted(first)}); a member has one address per family, so the file "
            "cannot be imported without dropping one",
        )


def _read_ip_info(
    info: Mapping[str, Any], family: int, where: str, asn: int, parts: _MemberParts
) -> bool:
    """Record one ``ipv4``/``ipv6`` object; True when it is a route server's address."""
    address = _get(info, "address", where, str)
    services = _items(info, "services", where)
    kinds = {_get(s, "type", f"{where}.services[{i}]", str) for i, s in enumerate(services)}
    if "ixrouteserver" in kinds:
        return True
    if services or address is None:
        return False  # a route collector or another exchange service: not a member address
    _add_address(parts, family, address, where, asn)
    for key, kind, target in (
        ("as_macro", str, parts.as_macro),
        ("max_prefix", int, parts.max_prefix),
        ("routeserver", bool, parts.routeserver),
    ):
        value = _get(info, key, where, kind)
        if value is not None:
            target.setdefault(family, value)
    macs = _get(info, "mac_addresses", where, list) or []
    for index, mac in enumerate(macs):
        if not isinstance(mac, str):
            raise IxfError(
                f"{where}.mac_addresses[{index}]", f"{validate.quoted(mac)} is not a string"
            )
        if mac not in parts.macs:
            parts.macs.append(mac)
    return False


def _read_connections(member: Mapping[str, Any], where: str, asn: int, lan: _Lan) -> _MemberParts:
    parts = _MemberParts()
    for c_index, connection in enumerate(_items(member, "connection_list", where, required=True)):
        c_where = f"{where}.connection_list[{c_index}]"
        if _get(connection, "ixp_id", c_where, int, required=True) != lan.ixp_id:
            continue
        parts.state = parts.state or _get(connection, "state", c_where, str)
        for i_index, interface in enumerate(_items(connection, "if_list", c_where)):
            speed = _get(interface, "if_speed", f"{c_where}.if_list[{i_index}]", int)
            parts.speed += speed or 0
        for v_index, vlan in enumerate(_items(connection, "vlan_list", c_where)):
            v_where = f"{c_where}.vlan_list[{v_index}]"
            vlan_id = _get(vlan, "vlan_id", v_where, int)
            if vlan_id is not None and lan.ixf_vlan_id is not None and vlan_id != lan.ixf_vlan_id:
                continue
            rs_addresses: dict[int, str | None] = {}
            for family in (4, 6):
                info = _get(vlan, f"ipv{family}", v_where, dict)
                i_where = f"{v_where}.ipv{family}"
                if info is not None and _read_ip_info(info, family, i_where, asn, parts):
                    rs_addresses[family] = info.get("address")
            if rs_addresses:
                parts.route_servers.append((v_where, rs_addresses.get(4), rs_addresses.get(6)))
    return parts


def _status(state: str | None) -> str:
    """IX-F connection ``state`` as a member status (IXP Manager writes active/inactive)."""
    if state in {s.value for s in MemberStatus}:
        return str(state)
    return MemberStatus.suspended.value if state == "inactive" else MemberStatus.active.value


def _rs_name(name: str | None, asn: int, count: int, position: int) -> str:
    """A route-server name usable as a file and BIRD name, from the entry's free-text name."""
    slug = _NOT_RS_NAME.sub("-", (name or "").lower()).strip("-")[:28].strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"rs-{asn}"[:28]
    return slug if count == 1 else f"{slug}-{position}"


def _member_input(
    asn: int, member: Mapping[str, Any], where: str, parts: _MemberParts
) -> MemberInput:
    emails = _get(member, "contact_email", where, list) or []
    phones = _get(member, "contact_phone", where, list) or []
    for key, values in (("contact_email", emails), ("contact_phone", phones)):
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise IxfError(
                    f"{where}.{key}[{index}]", f"{validate.quoted(value)} is not a string"
                )
    since = _get(member, "member_since", where, str)
    return MemberInput(
        asn=asn,
        name=_get(member, "name", where, str) or f"AS{asn}",
        max_prefix_v4=parts.max_prefix.get(4, DEFAULT_MAX_PREFIX[4]),
        max_prefix_v6=parts.max_prefix.get(6, DEFAULT_MAX_PREFIX[6]),
        as_set_v4=parts.as_macro.get(4),
        as_set_v6=parts.as_macro.get(6),
        ipv4=parts.address.get(4),
        ipv6=parts.address.get(6),
        macs=tuple(parts.macs),
        speed_mbps=parts.speed or None,
        status=_status(parts.state),
        noc_email=emails[0] if emails else None,
        peering_email=emails[1] if len(emails) > 1 else None,
        noc_phone=phones[0] if phones else None,
        url=_get(member, "url", where, str),
        joined=_date(since, f"{where}.member_since") if since else None,
        rs_ipv4=parts.routeserver.get(4, True),
        rs_ipv6=parts.routeserver.get(6, True),
    )


def read_document(document: Any, ixp_id: int | None = None) -> ParsedDocument:
    """Check the file's structure and gather what it says, before anything is written.

    Needs no database: the checks that do (addresses in use, the LAN of an
    existing exchange) run during the import, inside its transaction.
    """
    if not isinstance(document, dict):
        raise IxfError("(top level)", "is not a JSON object")
    version = _get(document, "version", "", str, required=True)
    if version != SCHEMA_VERSION:
        raise IxfError(
            "version",
            f"{validate.quoted(version)} is not supported (only IX-F schema {SCHEMA_VERSION})",
        )
    timestamp = _timestamp(_get(document, "timestamp", "", str, required=True))
    lan = _read_lan(document, ixp_id)
    parsed = ParsedDocument(timestamp=timestamp, lan=lan)
    seen: dict[int, str] = {}
    for index, member in enumerate(_items(document, "member_list", "", required=True)):
        where = f"member_list[{index}]"
        asn = _get(member, "asnum", where, int, required=True)
        if not 0 <= asn <= validate.MAX_ASN:  # it names the member in every later message
            raise IxfError(f"{where}.asnum", f"{validate.quoted(asn)} is not a 32-bit AS number")
        parts = _read_connections(member, where, asn, lan)
        entry_name = _get(member, "name", where, str)
        for position, (rs_where, ipv4, ipv6) in enumerate(parts.route_servers, start=1):
            name = _rs_name(entry_name, asn, len(parts.route_servers), position)
            parsed.route_servers.append(_RouteServer(rs_where, name, asn, ipv4, ipv6))
        if not parts.address:
            if not parts.route_servers:
                parsed.skipped.append(asn)
            continue
        if asn in seen:
            raise IxfError(f"{where}.asnum", f"{asn} is listed twice (also {seen[asn]})")
        seen[asn] = where
        parsed.members.append((f"{where} (AS{asn})", _member_input(asn, member, where, parts)))
    return parsed


def read_file(path: Path) -> Any:
    """The JSON document in ``path`` (one line naming the file if it is unreadable or broken)."""
    return jsonload.loads(jsonload.read(path), str(path))


# --- writing -----------------------------------------------------------------------------------


def _canonical_subnet(prefix: str | None) -> str | None:
    return str(netaddr.IPNetwork(prefix).cidr) if prefix else None


def _exchange_for(
    session: Session, parsed: ParsedDocument, options: ImportOptions
) -> tuple[Exchange, bool]:
    """The exchange the file describes: an existing one whose LAN matches, or a new one."""
    lan = parsed.lan
    where = lan.where
    existing = session.scalar(select(Exchange).where(Exchange.name == lan.name))
    if existing is None:
        all_exchanges = list(session.scalars(select(Exchange).limit(2)))
        existing = all_exchanges[0] if len(all_exchanges) == 1 else None
    if existing is not None:
        current = peering_lan(existing)
        for family, given, have in (
            (4, lan.lan_v4, current.ipv4_prefix),
            (6, lan.lan_v6, current.ipv6_prefix),
        ):
            try:
                wanted = _canonical_subnet(given)
            except (netaddr.AddrFormatError, ValueError):
                raise IxfError(
                    f"{lan.vlan_where}.ipv{family}", f"{validate.quoted(given)} is not a prefix"
                ) from None
            if wanted != have:
                raise IxfError(
                    f"{lan.vlan_where}.ipv{family}",
                    f"{validate.quoted(given)} is not the peering LAN of exchange "
                    f"{existing.name!r} ({have})",
                )
        return existing, False
    asn = options.exchange_asn
    if asn is None:
        if not parsed.route_servers:
            raise IxfError(
                where,
                "the exchange's ASN is unknown: the file lists no route server; give it explicitly",
            )
        asn = parsed.route_servers[0].asn
    try:
        created = init_exchange(
            session,
            name=lan.name,
            country=lan.country,
            asn=asn,
            lan_v4=lan.lan_v4,
            lan_v6=lan.lan_v6,
            vlan_id=lan.vlan_tag,
            blackhole_ipv4=options.blackhole_ipv4,
            blackhole_ipv6=options.blackhole_ipv6,
            url=lan.url,
            allow_lab=options.allow_lab,
            actor=options.actor,
        )
    except IxpError as exc:
        raise IxfError(where, str(exc)) from None
    return get_exchange(session, created.name), True


def _same_address(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    try:
        return netaddr.IPAddress(a) == netaddr.IPAddress(b)
    except (netaddr.AddrFormatError, ValueError):
        return a == b


def _add_route_servers(
    session: Session, exchange: Exchange, wanted: Sequence[_RouteServer], options: ImportOptions
) -> list[str]:
    """Add the file's route servers the exchange lacks; existing ones must match."""
    added: list[str] = []
    for rs in wanted:
        existing = [
            have
            for have in exchange.route_servers
            if have.name == rs.name
            or (rs.ipv4 and _same_address(have.ipv4, rs.ipv4))
            or (rs.ipv6 and _same_address(have.ipv6, rs.ipv6))
        ]
        if existing:
            have = existing[0]
            if have.asn != rs.asn or not (
                _same_address(have.ipv4, rs.ipv4) and _same_address(have.ipv6, rs.ipv6)
            ):
                raise IxfError(
                    rs.where,
                    f"route server {rs.name!r} (AS{rs.asn}, {validate.quoted(rs.ipv4)}, "
                    f"{validate.quoted(rs.ipv6)}) conflicts with "
                    f"existing route server {have.name!r} (AS{have.asn}, {have.ipv4}, {have.ipv6})",
                )
            continue
        if rs.ipv4 is None:
            raise IxfError(
                rs.where, f"route server {rs.name!r} has no IPv4 address for its router id"
            )
        try:
            add_route_server(
                session,
                name=rs.name,
                asn=rs.asn,
                router_id=rs.ipv4,
                ipv4=rs.ipv4,
                ipv6=rs.ipv6,
                exchange=exchange,
                allow_lab=options.allow_lab,
                actor=options.actor,
            )
        except IxpError as exc:
            raise IxfError(rs.where, str(exc)) from None
        added.append(rs.name)
    return added


def _normalised(check: Any, value: Any, name: str, *args: Any) -> Any:
    return None if value in (None, "") else check(value, name, *args)


def member_changes(member: Member, data: MemberInput) -> dict[str, Any]:
    """The ``update_member`` changes that make ``member`` match ``data`` (empty: it already does).

    Values are normalised with the same validators the onboarding uses, so a file
    that writes an address or MAC differently from the database is no change.
    """
    current = MemberView.of(member)
    wanted: dict[str, Any] = {
        "name": data.name,
        "as_set_v4": _normalised(validate.as_set, data.as_set_v4, "as_set_v4"),
        "as_set_v6": _normalised(validate.as_set, data.as_set_v6, "as_set_v6"),
        "max_prefix_v4": data.max_prefix_v4,
        "max_prefix_v6": data.max_prefix_v6,
        "status": data.status,
        "noc_email": data.noc_email,
        "peering_email": data.peering_email,
        "noc_phone": data.noc_phone,
        "url": data.url,
        "joined": data.joined,
        "macs": tuple(sorted({validate.mac(m, "macs") for m in data.macs})),
        "speed_mbps": data.speed_mbps,
    }
    changes = {key: value for key, value in wanted.items() if getattr(current, key) != value}
    for family, given, have in ((4, data.ipv4, current.ipv4), (6, data.ipv6, current.ipv6)):
        address = _normalised(validate.address, given, f"ipv{family}", family)
        wanted_addresses = (str(address),) if address is not None else ()
        if have != wanted_addresses:
            changes[f"ipv{family}"] = wanted_addresses[0] if wanted_addresses else ""
    for family, flag in ((4, data.rs_ipv4), (6, data.rs_ipv6)):
        if any(getattr(s, f"ipv{family}_enabled") != flag for s in current.route_servers):
            changes[f"rs_ipv{family}"] = flag
    return changes


def _apply_member(
    session: Session, exchange: Exchange, data: MemberInput, options: ImportOptions
) -> str:
    """Create or update one member; returns ``created``, ``updated`` or ``unchanged``."""
    try:
        member = get_member(session, data.asn, exchange)
    except NotFound:
        add_member(
            session, data, exchange=exchange, allow_lab=options.allow_lab, actor=options.actor
        )
        return "created"
    changes = member_changes(member, data)
    if not changes:
        return "unchanged"
    update_member(session, member.asn, changes, exchange=exchange, actor=options.actor)
    return "updated"


def import_document(session: Session, document: Any, options: ImportOptions) -> ImportResult:
    """Import an IX-F 1.0 document (parsed JSON) in one transaction; see the module docstring."""
    parsed = read_document(document, options.ixp_id)
    outcomes: dict[str, list[int]] = {"created": [], "updated": [], "unchanged": []}
    with transaction(session):
        exchange, exchange_created = _exchange_for(session, parsed, options)
        rs_added = _add_route_servers(session, exchange, parsed.route_servers, options)
        for where, data in parsed.members:
            try:
                outcome = _apply_member(session, exchange, data, options)
            except IxpError as exc:
                raise IxfError(where, str(exc)) from None
            outcomes[outcome].append(int(data.asn))
        result = ImportResult(
            exchange=exchange.name,
            exchange_created=exchange_created,
            route_servers_added=tuple(rs_added),
            created=tuple(outcomes["created"]),
            updated=tuple(outcomes["updated"]),
            unchanged=tuple(outcomes["unchanged"]),
            skipped=tuple(parsed.skipped),
        )
        if result.changed:
            audit.record(
                session,
                actor=options.actor,
                action="import",
                entity=AUDIT_ENTITY,
                key=exchange.name,
                after=_audit_snapshot(parsed.timestamp, result),
            )
    return result


def import_file(session: Session, path: Path, options: ImportOptions) -> ImportResult:
    """Import the IX-F file at ``path``."""
    return import_document(session, read_file(path), options)


# --- export ------------------------------------------------------------------------------------


def data_timestamp(session: Session) -> str:
    """When the exported data last changed (a latest change that was an import: its file's time)."""
    entry = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity.in_(_EXPORTED_ENTITIES))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return _EPOCH
    if entry.entity == AUDIT_ENTITY and entry.after and "timestamp" in entry.after:
        return str(entry.after["timestamp"])
    return _format_time(entry.at)


def _subnet_entry(prefix: str | None) -> dict[str, Any] | None:
    if not prefix:
        return None
    net = netaddr.IPNetwork(prefix)
    return {"prefix": str(net.network), "mask_length": net.prefixlen}


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


def _rs_entry(rs: RouteServer, vlan_tag: int) -> dict[str, Any]:
    service = [{"type": "ixrouteserver", "daemon": "BIRD"}]
    vlan = _without_none(
        {
            "vlan_id": vlan_tag,
            "ipv4": {"address": rs.ipv4, "services": service} if rs.ipv4 else None,
            "ipv6": {"address": rs.ipv6, "services": service} if rs.ipv6 else None,
        }
    )
    return {
        "asnum": rs.asn,
        "member_type": "ixp",
        "name": rs.name,
        "connection_list": [{"ixp_id": EXPORT_IXP_ID, "state": "active", "vlan_list": [vlan]}],
    }


def _member_entry(member: Member, vlan_tag: int) -> dict[str, Any]:
    view = MemberView.of(member)
    sessions = view.route_servers
    family_of = {
        4: (view.max_prefix_v4, view.as_set_v4, all(s.ipv4_enabled for s in sessions)),
        6: (view.max_prefix_v6, view.as_set_v6, all(s.ipv6_enabled for s in sessions)),
    }

    def ip_info(family: int, address: str | None) -> dict[str, Any] | None:
        if address is None:
            return None
        max_prefix, as_macro, enabled = family_of[family]
        return _without_none(
            {
                "address": address,
                "routeserver": bool(sessions) and enabled,
                "max_prefix": max_prefix,
                "as_macro": as_macro,
                "mac_addresses": list(view.macs),
            }
        )

    vlans = [
        _without_none({"vlan_id": vlan_tag, "ipv4": ip_info(4, v4), "ipv6": ip_info(6, v6)})
        for v4, v6 in itertools.zip_longest(view.ipv4, view.ipv6)
    ]
    connection = _without_none(
        {
            "ixp_id": EXPORT_IXP_ID,
            "state": view.status.value,
            "if_list": [{"if_speed": view.speed_mbps}] if view.speed_mbps else None,
            "vlan_list": vlans,
        }
    )
    contacts = [e for e in (view.noc_email, view.peering_email) if e]
    return _without_none(
        {
            "asnum": member.asn,
            "member_type": "peering",
            "name": view.name,
            "url": view.url,
            "contact_email": list(dict.fromkeys(contacts)),
            "contact_phone": [view.noc_phone] if view.noc_phone else None,
            "member_since": f"{view.joined.isoformat()}T00:00:00Z" if view.joined else None,
            "connection_list": [connection],
        }
    )


def export_document(session: Session, exchange: Exchange, *, ixf_id: int = 0) -> dict[str, Any]:
    """The exchange as an IX-F 1.0 document; departed members are left out."""
    lan = peering_lan(exchange)
    ixp = _without_none(
        {
            "ixp_id": EXPORT_IXP_ID,
            "ixf_id": ixf_id,
            "shortname": exchange.name,
            "name": exchange.name,
            "country": exchange.country,
            "url": exchange.url,
            "vlan": [
                _without_none(
                    {
                        "id": lan.vlan_id,
                        "name": lan.name,
                        "ipv4": _subnet_entry(lan.ipv4_prefix),
                        "ipv6": _subnet_entry(lan.ipv6_prefix),
                    }
                )
            ],
        }
    )
    route_servers = sorted(exchange.route_servers, key=lambda rs: rs.name)
    members = [m for m in list_members(session, exchange) if m.status is not MemberStatus.departed]
    return {
        "version": SCHEMA_VERSION,
        "timestamp": data_timestamp(session),
        "ixp_list": [ixp],
        "member_list": [_rs_entry(rs, lan.vlan_id) for rs in route_servers]
        + [_member_entry(m, lan.vlan_id) for m in members],
    }


def export_json(session: Session, exchange: Exchange, *, ixf_id: int = 0) -> str:
    """The IX-F document as text: sorted keys, two-space indent, UTF-8 names kept readable."""
    document = export_document(session, exchange, ixf_id=ixf_id)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
