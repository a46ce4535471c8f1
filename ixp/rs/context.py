"""Database -> ``RsContext``: what one route server's configuration is made of.

Only active members get sessions, only in the families their ``RsSession``
enables and where both the member and the route server have a LAN address. A
member without registry data is left out (never given an empty or open filter)
and listed with the reason; a member whose registry update is held keeps its
last good data, and the build report says so.
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ixp import rsrules
from ixp.errors import ValidationError
from ixp.irr.service import as_set_label, irr_for_members
from ixp.irr.types import IrrData, PrefixEntry
from ixp.models import Member, MemberStatus, RouteServer
from ixp.rpki.service import current_roas
from ixp.rs.types import (
    Collector,
    DroppedRule,
    Excluded,
    Limits,
    MemberPolicy,
    PrefixRule,
    RegistryState,
    RoaLike,
    RpkiSource,
    RsContext,
)
from ixp.rs.types import Session as RsSessionCtx
from ixp.settings import Settings

# Prefix text that can only ever be a prefix in BIRD syntax: registry and validator
# data reach the config as bare tokens, so anything else is refused, not escaped.
_PREFIX_LIST = {
    4: re.compile(r"(?:[0-9.]{7,15}/\d{1,2})(?:\n[0-9.]{7,15}/\d{1,2})*"),
    6: re.compile(
        r"(?:[0-9a-fA-F.]*:[0-9a-fA-F:.]*/\d{1,3})(?:\n[0-9a-fA-F.]*:[0-9a-fA-F:.]*/\d{1,3})*"
    ),
}
_FAMILY_BITS = {4: 32, 6: 128}


@dataclass(frozen=True)
class IrrNote:
    """Registry data state worth telling the operator about, per member (not part of the config)."""

    asn: int
    as_set: str
    source: str
    held: bool
    note: str | None


@dataclass(frozen=True)
class ContextResult:
    """A route server's context plus the registry notes the build report shows."""

    context: RsContext
    irr_notes: tuple[IrrNote, ...]


def protocol_name(asn: int, family: int, index: int) -> str:
    """The BIRD protocol name of a member session, e.g. ``AS64500_v4_1`` (well under 64 chars)."""
    return f"AS{asn}_v{family}_{index}"


def _address(value: str | None, family: int, field: str) -> str | None:
    if value is None:
        return None
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(field, value, "is not an IP address") from None
    if parsed.version != family:
        raise ValidationError(field, value, f"is not an IPv{family} address")
    return str(parsed)


def _network(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValidationError(field, value, "is not a network") from None


def _prefix_lengths(prefixes: list[str], family: int, field: str) -> list[int]:
    """The lengths of registry/validator prefixes, refusing any text that is not a plain prefix.

    The whole list is matched by one regular expression (a million prefixes in a
    fraction of a second); only a failing list is searched for the culprit.
    """
    if prefixes and not _PREFIX_LIST[family].fullmatch("\n".join(prefixes)):
        culprit = next(p for p in prefixes if not _PREFIX_LIST[family].fullmatch(p))
        raise ValidationError(field, culprit, f"is not an IPv{family} prefix")
    lengths = [int(p[p.rindex("/") + 1 :]) for p in prefixes]
    if lengths and max(lengths) > _FAMILY_BITS[family]:
        culprit = prefixes[lengths.index(max(lengths))]
        raise ValidationError(field, culprit, "has a prefix length beyond the address size")
    return lengths


def _rules(entries: Sequence[PrefixEntry], family: int, asn: int) -> tuple[PrefixRule, ...]:
    """The member's prefixes in the registry layer's (sorted, deduplicated) order, checked."""
    prefixes = [e.prefix for e in entries]
    lengths = _prefix_lengths(prefixes, family, f"irr prefix of AS{asn}")
    bits = _FAMILY_BITS[family]
    return tuple(
        PrefixRule(e.prefix, length, min(max(e.max_length, length), bits))
        for e, length in zip(entries, lengths, strict=True)
    )


def _roas(session: Session) -> tuple[RoaLike, ...]:
    """The stored ROAs in the service's (address) order, each checked to be a plain prefix."""
    roas = current_roas(session)
    for family in (4, 6):
        subset = [r for r in roas if (":" in r.prefix) == (family == 6)]
        lengths = _prefix_lengths([r.prefix for r in subset], family, "roa prefix")
        bits = _FAMILY_BITS[family]
        for roa, length in zip(subset, lengths, strict=True):
            if not length <= roa.max_length <= bits:
                raise ValidationError("roa max_length", roa.max_length, f"invalid for {roa.prefix}")
    return tuple(roas)


def _span(prefix: str, family: int) -> tuple[int, int]:
    """First and last address of a (checked) prefix, as integers."""
    address, _, length = prefix.partition("/")
    bits = _FAMILY_BITS[family]
    kind = socket.AF_INET if family == 4 else socket.AF_INET6
    first = int.from_bytes(socket.inet_pton(kind, address))
    return first, first + (1 << (bits - int(length))) - 1


@dataclass(frozen=True)
class RoaTable:
    """The stored ROAs, checked, with each one's address span computed once per build."""

    roas: tuple[RoaLike, ...]
    spans: tuple[tuple[int, int, int], ...]


def load_roas(session: Session) -> RoaTable:
    """The stored ROAs ready for ``build_context``; load once when building several servers."""
    roas = _roas(session)
    spans = []
    for roa in roas:
        family = 6 if ":" in roa.prefix else 4
        spans.append((family, *_span(roa.prefix, family)))
    return RoaTable(roas, tuple(spans))


def _relevant_roas(table: RoaTable, policies: Sequence[MemberPolicy]) -> tuple[RoaLike, ...]:
    """The ROAs that can decide a route some member may announce.

    A route is accepted only inside a member's registered prefixes, so only ROAs
    overlapping one of them (covering it, or covering a more-specific of it) can
    change whether a route is accepted. The rest would cost BIRD memory and
    startup time (400,000 ROAs: 176 MB against 88 MB, measured in bench/rs_build.py)
    and only add an RPKI tag to routes the IRR check rejects anyway.
    """
    spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for policy in policies:
        for family in (4, 6):
            spans[family].extend(_span(rule.prefix, family) for rule in policy.prefixes(family))
    merged: dict[int, tuple[list[int], list[int]]] = {}
    for family, intervals in spans.items():
        starts: list[int] = []
        ends: list[int] = []
        for first, last in sorted(intervals):
            if ends and first <= ends[-1] + 1:
                ends[-1] = max(ends[-1], last)
            else:
                starts.append(first)
                ends.append(last)
        merged[family] = (starts, ends)
    kept = []
    for roa, (family, first, last) in zip(table.roas, table.spans, strict=True):
        starts, ends = merged[family]
        index = bisect.bisect_right(starts, last) - 1
        if index >= 0 and ends[index] >= first:
            kept.append(roa)
    return tuple(kept)


def limits_from(settings: Settings) -> Limits:
    """The settable policy limits."""
    return Limits(
        min_length_v4=settings.rs_min_prefix_length_v4,
        max_length_v4=settings.rs_max_prefix_length_v4,
        min_length_v6=settings.rs_min_prefix_length_v6,
        max_length_v6=settings.rs_max_prefix_length_v6,
        max_as_path_length=settings.rs_max_as_path_length,
        transit_free_asns=tuple(sorted(set(settings.rs_transit_free_asns))),
        receive_factor=settings.rs_receive_limit_factor,
    )


def _collector(settings: Settings, rs: RouteServer) -> Collector | None:
    ipv4 = _address(settings.collector_ipv4, 4, "collector_ipv4") if rs.ipv4 else None
    ipv6 = _address(settings.collector_ipv6, 6, "collector_ipv6") if rs.ipv6 else None
    if ipv4 is None and ipv6 is None:
        return None
    return Collector(asn=settings.collector_asn, ipv4=ipv4, ipv6=ipv6)


def _sessions(member: Member, rs: RouteServer, receive_factor: int) -> tuple[RsSessionCtx, ...]:
    link = next((s for s in member.rs_sessions if s.route_server_id == rs.id), None)
    if link is None:
        return ()
    enabled = {4: link.ipv4_enabled and rs.ipv4, 6: link.ipv6_enabled and rs.ipv6}
    limits = {4: member.max_prefix_v4, 6: member.max_prefix_v6}
    sessions: list[RsSessionCtx] = []
    for family in (4, 6):
        if not enabled[family]:
            continue
        addresses = sorted(
            ipaddress.ip_address(a.address)
            for a in member.addresses
            if a.family == family and a.lan_id == rs.lan_id
        )
        local = _address(rs.ipv4 if family == 4 else rs.ipv6, family, f"ipv{family}")
        assert local is not None
        sessions.extend(
            RsSessionCtx(
                name=protocol_name(member.asn, family, index),
                family=family,
                neighbor=str(address),
                local=local,
                max_prefix=limits[family],
                receive_limit=limits[family] * receive_factor,
            )
            for index, address in enumerate(addresses, start=1)
        )
    return tuple(sessions)


def _exclusion(member: Member, sessions: tuple[RsSessionCtx, ...], irr: IrrData | None) -> str:
    """Why a member cannot be configured ('' when it can)."""
    if member.status is not MemberStatus.active:
        return f"status is {member.status.value}"
    if not sessions:
        return "no enabled session: no LAN address in an enabled address family"
    return ""


def registry_state(irr: IrrData | None) -> RegistryState:
    """Which registry data a member's filter is built from (the monitor alerts on closed ones)."""
    if irr is None:
        return RegistryState.missing
    if irr.fetched_at is None:
        return RegistryState.first_held
    return RegistryState.held if irr.held else RegistryState.current


def _policy(
    member: Member, sessions: tuple[RsSessionCtx, ...], irr: IrrData | None
) -> MemberPolicy:
    """The member's filter inputs; without registry data in use, empty sets (all filtered)."""
    state = registry_state(irr)
    usable = irr if irr is not None and not state.closed else None
    return MemberPolicy(
        asn=member.asn,
        display_name=member.display_name,
        legal_name=member.legal_name,
        as_set=irr.as_set if irr is not None else as_set_label(member),
        origin_asns=tuple(sorted(set(usable.asns))) if usable else (),
        prefixes_v4=_rules(usable.v4, 4, member.asn) if usable else (),
        prefixes_v6=_rules(usable.v6, 6, member.asn) if usable else (),
        max_prefix_action=member.max_prefix_action.value,
        announcement_control=member.announcement_control,
        blackholing=member.blackholing,
        third_party_next_hop=member.third_party_next_hop,
        registry=state,
        sessions=sessions,
    )


def _with_rules(
    session: Session, rs: RouteServer, policies: list[MemberPolicy], excluded: list[Excluded]
) -> tuple[list[MemberPolicy], tuple[DroppedRule, ...]]:
    """The configured members with their filtering rules compiled, and the rules left out.

    A rule can only name a peer configured on this route server: one about a member
    left out (suspended, no session here) or gone is dropped with the reason, so the
    build report shows it instead of the configuration holding a rule about no one.
    """
    stored = rsrules.rules_by_member(session, rs.exchange)
    if not stored:
        return policies, ()
    configured = {policy.asn for policy in policies}
    why_out = {e.asn: e.reason for e in excluded}

    def absent(peer: int) -> str | None:
        if peer in configured:
            return None
        if peer in why_out:
            return f"AS{peer} is not configured on {rs.name} ({why_out[peer]})"
        return f"AS{peer} is no longer a member of {rs.exchange.name}"

    compiled: list[MemberPolicy] = []
    dropped: list[DroppedRule] = []
    for policy in policies:
        rules = stored.get(policy.asn)
        if rules is None:
            compiled.append(policy)
            continue
        member_rules, left_out = rsrules.compile_rules(policy.asn, rules, absent)
        compiled.append(dataclasses.replace(policy, rules=member_rules))
        dropped.extend(left_out)
    return compiled, tuple(dropped)


def build_context(
    session: Session, rs: RouteServer, settings: Settings, roas: RoaTable | None = None
) -> ContextResult:
    """Read everything route server ``rs`` needs from the database, validated and sorted.

    ``roas`` lets a build of several route servers read and check the ROAs once.
    """
    exchange = rs.exchange
    members = session.scalars(
        select(Member)
        .where(Member.exchange_id == exchange.id)
        .options(selectinload(Member.addresses), selectinload(Member.rs_sessions))
        .order_by(Member.asn)
    ).all()
    policies: list[MemberPolicy] = []
    excluded: list[Excluded] = []
    notes: list[IrrNote] = []
    registry = irr_for_members(session, [m for m in members if m.status is MemberStatus.active])
    for member in members:
        sessions = _sessions(member, rs, settings.rs_receive_limit_factor)
        irr = registry.get(member.id)
        reason = _exclusion(member, sessions, irr)
        if reason:
            excluded.append(Excluded(member.asn, member.display_name, reason))
            continue
        policies.append(_policy(member, sessions, irr))
        if irr is not None and (irr.held or irr.note):
            notes.append(IrrNote(member.asn, irr.as_set, irr.source, irr.held, irr.note))
    policies, dropped = _with_rules(session, rs, policies, excluded)
    context = RsContext(
        exchange=exchange.name,
        rs_name=rs.name,
        rs_asn=rs.asn,
        router_id=str(_address(rs.router_id, 4, "router_id")),
        ipv4=_address(rs.ipv4, 4, "ipv4"),
        ipv6=_address(rs.ipv6, 6, "ipv6"),
        lan_v4=_network(rs.lan.ipv4_prefix, "ipv4_prefix"),
        lan_v6=_network(rs.lan.ipv6_prefix, "ipv6_prefix"),
        blackhole_v4=_address(exchange.blackhole_ipv4, 4, "blackhole_ipv4"),
        blackhole_v6=_address(exchange.blackhole_ipv6, 6, "blackhole_ipv6"),
        limits=limits_from(settings),
        rpki=RpkiSource(
            roas=()
            if settings.rpki_rtr_host
            else _relevant_roas(roas or load_roas(session), policies),
            rtr_host=settings.rpki_rtr_host,
            rtr_port=settings.rpki_rtr_port,
        ),
        collector=_collector(settings, rs),
        members=tuple(policies),
        excluded=tuple(excluded),
        dropped_rules=dropped,
    )
    return ContextResult(context, tuple(notes))
