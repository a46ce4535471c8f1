"""Database -> ``RsContext``: what one route server's configuration is made of.

Only active members get sessions, only in the families their ``RsSession``
enables and where both the member and the route server have a LAN address. A
member without registry data is left out (never given an empty or open filter)
and listed with the reason; a member whose registry update is held keeps its
last good data, and the build report says so.

A large exchange's build is mostly reading and checking what rarely changes: a
million registry prefixes and 400,000 ROAs. A build therefore reads the members
and their registry data once for all route servers (``ExchangeData``), keeps them
in its process for the next build while their rows are unchanged (``_registry``),
and keeps the relevant ROAs in the build cache under ``home``, stored under the ROA
set's identity and the members' prefixes (``RoaTable.relevant``); only a miss
reads the whole ROA set.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ixp import rsrules, versions
from ixp.errors import ValidationError
from ixp.irr.service import as_set_label, irr_for_members
from ixp.irr.types import IrrData, PrefixEntry
from ixp.models import Exchange, IrrPrefixData, Member, MemberStatus, RouteServer, RpkiRoa
from ixp.rpki.service import current_roas, last_load
from ixp.rpki.types import Roa
from ixp.rs.cache import BuildCache, cache_key
from ixp.rs.spans import FAMILY_BITS, Spans, span
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
from ixp.versions import VersionedCache

# Prefix text that can only ever be a prefix in BIRD syntax: registry and validator
# data reach the config as bare tokens, so anything else is refused, not escaped.
_PREFIX_LIST = {
    4: re.compile(r"(?:[0-9.]{7,15}/\d{1,2})(?:\n[0-9.]{7,15}/\d{1,2})*"),
    6: re.compile(
        r"(?:[0-9a-fA-F.]*:[0-9a-fA-F:.]*/\d{1,3})(?:\n[0-9a-fA-F.]*:[0-9a-fA-F:.]*/\d{1,3})*"
    ),
}


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
    if lengths and max(lengths) > FAMILY_BITS[family]:
        culprit = prefixes[lengths.index(max(lengths))]
        raise ValidationError(field, culprit, "has a prefix length beyond the address size")
    return lengths


def _rules(entries: Sequence[PrefixEntry], family: int, asn: int) -> tuple[PrefixRule, ...]:
    """The member's prefixes in the registry layer's (sorted, deduplicated) order, checked."""
    prefixes = [e.prefix for e in entries]
    lengths = _prefix_lengths(prefixes, family, f"irr prefix of AS{asn}")
    bits = FAMILY_BITS[family]
    return tuple(
        PrefixRule(e.prefix, length, min(max(e.max_length, length), bits))
        for e, length in zip(entries, lengths, strict=True)
    )


def _checked_roas(roas: Sequence[RoaLike]) -> None:
    """Refuse any ROA whose prefix is not a plain prefix or whose max length is impossible."""
    for family in (4, 6):
        subset = [r for r in roas if (":" in r.prefix) == (family == 6)]
        lengths = _prefix_lengths([r.prefix for r in subset], family, "roa prefix")
        bits = FAMILY_BITS[family]
        for roa, length in zip(subset, lengths, strict=True):
            if not length <= roa.max_length <= bits:
                raise ValidationError("roa max_length", roa.max_length, f"invalid for {roa.prefix}")


def _roa_set_identity(session: Session) -> str:
    """What tells one stored ROA set from another without reading it.

    ``ixp rpki load`` replaces the set and adds a load record in one transaction, and
    any ORM change to either table raises the rpki data version; the row count and
    highest id guard against a change made past both, and the database's address
    keeps two databases that share a data directory apart.
    """
    load = last_load(session)
    count, top = session.execute(select(func.count(), func.max(RpkiRoa.id))).one()
    described = (
        f"{load.id}:{load.sha256}:{load.loaded_at.isoformat()}:{load.roas_v4}:{load.roas_v6}"
        if load is not None
        else "none"
    )
    url = session.connection().engine.url.render_as_string(hide_password=True)
    version = versions.current(session, versions.RPKI)
    return f"{url}|{version}|{described}|{count}:{top}"


class RoaTable:
    """The stored ROA set as one build sees it: its identity is read at once, the ROAs
    themselves (400,000 at a large exchange, most of a build's time) only when the
    relevant ones are not in the build cache. Load once when building several servers.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self.identity = _roa_set_identity(session)
        self._spans: tuple[tuple[RoaLike, ...], tuple[tuple[int, int, int], ...]] | None = None

    def with_spans(self) -> tuple[tuple[RoaLike, ...], tuple[tuple[int, int, int], ...]]:
        """Every stored ROA in the service's (address) order, checked, with its family and span."""
        if self._spans is None:
            roas = current_roas(self._session)
            _checked_roas(roas)
            spans = []
            for roa in roas:
                family = 6 if ":" in roa.prefix else 4
                spans.append((family, *span(roa.prefix, family)))
            self._spans = tuple(roas), tuple(spans)
        return self._spans

    def relevant(
        self, policies: Sequence[MemberPolicy], digests: Sequence[str], cache: BuildCache | None
    ) -> tuple[RoaLike, ...]:
        """``_relevant_roas`` of these members: kept in this process or in the build cache
        when their prefixes (``digests``: each one's ``prefixes_digest``) and the ROA set
        are those of an earlier build."""
        key = cache_key([self.identity, *digests])

        def cached_or_computed() -> tuple[RoaLike, ...]:
            found = _cached_roas(cache, key) if cache is not None else None
            if found is None:
                found = _relevant_roas(self.with_spans(), policies)
                if cache is not None:
                    cache.put(_RELEVANT_ROAS, key, _roa_columns(found))
            return found

        return _RELEVANT.get(key, 0, cached_or_computed)


# Relevant ROA sets by key, kept in this process: both route servers of a build (and
# the next build in the API's process) usually want the same one.
_RELEVANT: VersionedCache[tuple[RoaLike, ...]] = VersionedCache(max_entries=4)
_RELEVANT_ROAS = "relevant-roas"


def _roa_columns(roas: Sequence[RoaLike]) -> dict[str, list[Any]]:
    return {
        "prefix": [r.prefix for r in roas],
        "max_length": [r.max_length for r in roas],
        "asn": [r.asn for r in roas],
    }


def _cached_roas(cache: BuildCache, key: str) -> tuple[RoaLike, ...] | None:
    """The relevant ROAs an earlier build stored under ``key``, checked again like the
    stored set (they become bare tokens in the configuration); None if there are none."""
    stored = cache.get(_RELEVANT_ROAS, key)
    if not isinstance(stored, dict):
        return None
    try:
        roas = tuple(map(Roa, stored["prefix"], stored["max_length"], stored["asn"]))
        _checked_roas(roas)
    except (TypeError, KeyError, ValueError, ValidationError):
        return None
    return roas


def load_roas(session: Session) -> RoaTable:
    """The stored ROA set for ``build_context``; nothing but its identity is read yet."""
    return RoaTable(session)


def _relevant_roas(
    table: tuple[tuple[RoaLike, ...], tuple[tuple[int, int, int], ...]],
    policies: Sequence[MemberPolicy],
) -> tuple[RoaLike, ...]:
    """The ROAs that can decide a route some member may announce.

    A route is accepted only inside a member's registered prefixes, so only ROAs
    overlapping one of them (covering it, or covering a more-specific of it) can
    change whether a route is accepted. The rest would cost BIRD memory and
    startup time (400,000 ROAs: 176 MB against 88 MB, measured in bench/rs_build.py)
    and only record an RPKI state on routes the IRR check rejects anyway.
    """
    registered = {
        family: Spans(
            span(rule.prefix, family) for policy in policies for rule in policy.prefixes(family)
        )
        for family in (4, 6)
    }
    roas, roa_spans = table
    return tuple(
        roa
        for roa, (family, first, last) in zip(roas, roa_spans, strict=True)
        if registered[family].overlaps(first, last)
    )


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


def _sessions(
    member: Member,
    rs: RouteServer,
    receive_factor: int,
    local: dict[int, str | None],
    data: ExchangeData,
) -> tuple[RsSessionCtx, ...]:
    link = next((s for s in member.rs_sessions if s.route_server_id == rs.id), None)
    if link is None:
        return ()
    enabled = {4: link.ipv4_enabled and rs.ipv4, 6: link.ipv6_enabled and rs.ipv6}
    limits = {4: member.max_prefix_v4, 6: member.max_prefix_v6}
    sessions: list[RsSessionCtx] = []
    for family in (4, 6):
        own = local[family]
        if not enabled[family] or own is None:
            continue
        sessions.extend(
            RsSessionCtx(
                name=protocol_name(member.asn, family, index),
                family=family,
                neighbor=address,
                local=own,
                max_prefix=limits[family],
                receive_limit=limits[family] * receive_factor,
            )
            for index, address in enumerate(data.lan_addresses(member, family, rs.lan_id), 1)
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


@dataclass(frozen=True)
class _Registered:
    """What a member's filter takes from its registry data, the same on every route server."""

    origin_asns: tuple[int, ...]
    prefixes_v4: tuple[PrefixRule, ...]
    prefixes_v6: tuple[PrefixRule, ...]
    prefixes_digest: str  # what the relevant ROAs depend on: the prefixes of both families

    @classmethod
    def of(
        cls, origin_asns: tuple[int, ...], v4: tuple[PrefixRule, ...], v6: tuple[PrefixRule, ...]
    ) -> _Registered:
        """The values with their digest (computed once, kept as long as they are)."""
        texts = ("\n".join(r.prefix for r in v4), "\n".join(r.prefix for r in v6))
        return cls(origin_asns, v4, v6, cache_key(texts))


_NOTHING_REGISTERED = _Registered.of((), (), ())


@dataclass(frozen=True)
class _RegistryData:
    """The active members' registry data as read at one registry data version, and the
    checked filters made of it so far (filled as route servers need them)."""

    irr: dict[int, IrrData | None]
    registered: dict[int, _Registered] = field(default_factory=dict)


# The last registry data read, kept in this process: the API's "Build now" after a
# change to one member's settings need not decode and check a million prefixes again.
# One entry (one exchange); it holds what a build holds anyway.
_REGISTRY: VersionedCache[_RegistryData] = VersionedCache(max_entries=1)


def _registry(session: Session, exchange: Exchange, members: Sequence[Member]) -> _RegistryData:
    """The registry data of the exchange's active ``members``, reused while nothing it
    was read from changed.

    Kept under the database, the active members and each one's registry rows (id,
    state, fetch and attempt times: a sync or an approval changes them, a removed
    member's rows go with it), at the registry data version (raised by any ORM change
    to the rows, which covers an edit that leaves those fields alone).
    """
    active = (Member.exchange_id == exchange.id) & (Member.status == MemberStatus.active)
    stamps = session.execute(
        select(
            IrrPrefixData.member_id,
            IrrPrefixData.id,
            IrrPrefixData.state,
            IrrPrefixData.fetched_at,
            IrrPrefixData.last_attempt_at,
        )
        .join(Member, IrrPrefixData.member_id == Member.id)
        .where(active)
        .order_by(IrrPrefixData.id)
    ).all()
    url = session.connection().engine.url.render_as_string(hide_password=True)
    key = (url, tuple(m.id for m in members), tuple(tuple(map(str, row)) for row in stamps))
    version = versions.current(session, versions.IRR)
    return _REGISTRY.get(key, version, lambda: _RegistryData(irr_for_members(session, members)))


class ExchangeData:
    """The members of one exchange and their registry data, read and checked once for every
    route server a build configures (they would otherwise be read, and a million prefixes
    checked, once per route server)."""

    def __init__(self, session: Session, exchange: Exchange) -> None:
        self.exchange = exchange
        self.members = session.scalars(
            select(Member)
            .where(Member.exchange_id == exchange.id)
            .options(selectinload(Member.addresses), selectinload(Member.rs_sessions))
            .order_by(Member.asn)
        ).all()
        active = [m for m in self.members if m.status is MemberStatus.active]
        self._registry = _registry(session, exchange, active)
        self._addresses: dict[tuple[int, int, int], tuple[str, ...]] = {}

    def lan_addresses(self, member: Member, family: int, lan_id: int) -> tuple[str, ...]:
        """The member's addresses of one family on one LAN, in address order."""
        key = (member.id, family, lan_id)
        found = self._addresses.get(key)
        if found is None:
            found = tuple(
                str(address)
                for address in sorted(
                    ipaddress.ip_address(a.address)
                    for a in member.addresses
                    if a.family == family and a.lan_id == lan_id
                )
            )
            self._addresses[key] = found
        return found

    def irr(self, member: Member) -> IrrData | None:
        """The member's registry data (None: never synced, or not an active member)."""
        return self._registry.irr.get(member.id)

    def registered(self, member: Member) -> _Registered:
        """The member's origin ASNs and checked prefix rules; none without registry data in use."""
        found = self._registry.registered.get(member.id)
        if found is None:
            irr = self.irr(member)
            if irr is None or registry_state(irr).closed:
                found = _NOTHING_REGISTERED
            else:
                found = _Registered.of(
                    tuple(sorted(set(irr.asns))),
                    _rules(irr.v4, 4, member.asn),
                    _rules(irr.v6, 6, member.asn),
                )
            self._registry.registered[member.id] = found
        return found


def _policy(
    member: Member,
    sessions: tuple[RsSessionCtx, ...],
    irr: IrrData | None,
    registered: _Registered,
) -> MemberPolicy:
    """The member's filter inputs; without registry data in use, empty sets (all filtered)."""
    return MemberPolicy(
        asn=member.asn,
        display_name=member.display_name,
        legal_name=member.legal_name,
        as_set=irr.as_set if irr is not None else as_set_label(member),
        origin_asns=registered.origin_asns,
        prefixes_v4=registered.prefixes_v4,
        prefixes_v6=registered.prefixes_v6,
        max_prefix_action=member.max_prefix_action.value,
        announcement_control=member.announcement_control,
        blackholing=member.blackholing,
        third_party_next_hop=member.third_party_next_hop,
        registry=registry_state(irr),
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
    session: Session,
    rs: RouteServer,
    settings: Settings,
    roas: RoaTable | None = None,
    data: ExchangeData | None = None,
) -> ContextResult:
    """Read everything route server ``rs`` needs from the database, validated and sorted.

    ``roas`` and ``data`` let a build of several route servers read and check the ROAs
    and the members' registry data once.
    """
    exchange = rs.exchange
    data = data or ExchangeData(session, exchange)
    policies: list[MemberPolicy] = []
    excluded: list[Excluded] = []
    notes: list[IrrNote] = []
    digests: list[str] = []
    local = {4: _address(rs.ipv4, 4, "ipv4"), 6: _address(rs.ipv6, 6, "ipv6")}
    for member in data.members:
        sessions = _sessions(member, rs, settings.rs_receive_limit_factor, local, data)
        irr = data.irr(member)
        reason = _exclusion(member, sessions, irr)
        if reason:
            excluded.append(Excluded(member.asn, member.display_name, reason))
            continue
        registered = data.registered(member)
        policies.append(_policy(member, sessions, irr, registered))
        digests.append(registered.prefixes_digest)
        if irr is not None and (irr.held or irr.note):
            notes.append(IrrNote(member.asn, irr.as_set, irr.source, irr.held, irr.note))
    policies, dropped = _with_rules(session, rs, policies, excluded)
    if settings.rpki_rtr_host:
        relevant: tuple[RoaLike, ...] = ()
    else:
        table = roas or load_roas(session)
        relevant = table.relevant(policies, digests, build_cache(settings))
    context = RsContext(
        exchange=exchange.name,
        rs_name=rs.name,
        rs_asn=rs.asn,
        router_id=str(_address(rs.router_id, 4, "router_id")),
        ipv4=local[4],
        ipv6=local[6],
        lan_v4=_network(rs.lan.ipv4_prefix, "ipv4_prefix"),
        lan_v6=_network(rs.lan.ipv6_prefix, "ipv6_prefix"),
        blackhole_v4=_address(exchange.blackhole_ipv4, 4, "blackhole_ipv4"),
        blackhole_v6=_address(exchange.blackhole_ipv6, 6, "blackhole_ipv6"),
        limits=limits_from(settings),
        rpki=RpkiSource(
            roas=relevant,
            rtr_host=settings.rpki_rtr_host,
            rtr_port=settings.rpki_rtr_port,
            tag_routes=settings.rpki_tag_routes,
        ),
        collector=_collector(settings, rs),
        members=tuple(policies),
        excluded=tuple(excluded),
        dropped_rules=dropped,
    )
    return ContextResult(context, tuple(notes))


def build_cache(settings: Settings) -> BuildCache:
    """Where builds keep what the next build can reuse (``<home>/cache/rs``)."""
    return BuildCache(settings.home / "cache" / "rs")
