"""``ixp rs explain``: would the route server accept this route from this member, and why not?

The rules are evaluated in Python in the same order, with the same data and the
same reason codes as ``rs_import()`` in ``templates/bird/functions.j2``; every
broken rule is reported, not only the first. The live tests hold the two to the
same expectations, so a disagreement shows up as a failing test.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ixp.errors import NotFound, ValidationError
from ixp.irr.prefixes import is_ascii_number
from ixp.rs import bogons
from ixp.rs.codes import RejectCode, describe
from ixp.rs.types import MemberPolicy, PrefixRule, RoaLike, RsContext, Session

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

BLACKHOLE = (65535, 666)
GRACEFUL_SHUTDOWN = (65535, 0)
NO_EXPORT = (65535, 65281)
NO_ADVERTISE = (65535, 65282)


@dataclass(frozen=True)
class Reason:
    """One broken rule: the code BIRD tags the route with, and what exactly is wrong."""

    code: int
    name: str
    detail: str


@dataclass(frozen=True)
class Explanation:
    """The route server's verdict on one route from one member."""

    rs_name: str
    asn: int
    prefix: str
    path: tuple[int, ...]
    next_hop: str
    session: str
    accepted: bool
    rpki: str
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _network(prefix: str) -> Network:
    try:
        return ipaddress.ip_network(prefix)
    except ValueError:
        raise ValidationError(
            "prefix", prefix, "is not a prefix (host bits must be zero)"
        ) from None


def _within(net: Network, prefix: str, shortest: int, longest: int) -> bool:
    candidate = ipaddress.ip_network(prefix)
    return (
        candidate.version == net.version
        and shortest <= net.prefixlen <= longest
        and net.subnet_of(candidate)  # type: ignore[arg-type]
    )


def _covered(net: Network, rules: Iterable[PrefixRule], blackhole: bool) -> PrefixRule | None:
    longest_host = net.max_prefixlen
    for rule in rules:
        longest = longest_host if blackhole else rule.max_length
        if _within(net, rule.prefix, rule.length, longest):
            return rule
    return None


def _bogon(net: Network) -> bogons.BogonPrefix | None:
    table = bogons.BOGON_PREFIXES_V4 if net.version == 4 else bogons.BOGON_PREFIXES_V6
    for entry in table:
        length = int(entry.prefix.rpartition("/")[2])
        if _within(net, entry.prefix, length, length if entry.exact else net.max_prefixlen):
            return entry
    return None


def rpki_state(net: Network, origin: int, roas: Iterable[RoaLike]) -> str:
    """RFC 6811 validation: ``valid``, ``invalid`` or ``unknown`` (no covering ROA)."""
    supernets = {str(net.supernet(new_prefix=length)) for length in range(net.prefixlen + 1)}
    covered = False
    for roa in roas:
        if roa.prefix.lower() not in supernets:
            continue
        covered = True
        if roa.asn == origin and origin != 0 and net.prefixlen <= roa.max_length:
            return "valid"
    return "invalid" if covered else "unknown"


def parse_community(text: str) -> tuple[int, ...]:
    """``65535:666`` or ``48000:0:64500`` as a tuple of ints."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(is_ascii_number(p) for p in parts):
        raise ValidationError("community", text, "must be A:B or A:B:C with decimal numbers")
    values = tuple(int(p) for p in parts)
    limit = 65535 if len(values) == 2 else 4_294_967_295
    if any(v > limit for v in values):
        raise ValidationError("community", text, f"has a part larger than {limit}")
    return values


def _reason(code: RejectCode, detail: str) -> Reason:
    return Reason(code.value, describe(code).name, detail)


def _session(member: MemberPolicy, family: int, next_hop: str | None, rs: str) -> Session:
    sessions = [s for s in member.sessions if s.family == family]
    if not sessions:
        raise ValidationError(
            "prefix", family, f"AS{member.asn} has no IPv{family} session on {rs}"
        )
    return next((s for s in sessions if s.neighbor == next_hop), sessions[0])


def _path_reasons(member: MemberPolicy, path: Sequence[int], ctx: RsContext) -> list[Reason]:
    reasons = []
    bad = sorted({asn for asn in path if bogons.is_bogon_asn(asn)})
    if bad:
        reasons.append(_reason(RejectCode.BOGON_ASN, f"reserved ASNs in path: {bad}"))
    first = path[0] if path else 0
    if first != member.asn:
        reasons.append(_reason(RejectCode.FIRST_AS, f"first AS {first}, member AS{member.asn}"))
    if len(path) > ctx.limits.max_as_path_length:
        reasons.append(
            _reason(
                RejectCode.AS_PATH_LENGTH,
                f"{len(path)} ASNs, at most {ctx.limits.max_as_path_length}",
            )
        )
    transit_free = sorted(set(path) & set(ctx.limits.transit_free_asns) - {member.asn})
    if transit_free:
        reasons.append(_reason(RejectCode.TRANSIT_FREE_ASN, f"in path: {transit_free}"))
    return reasons


def _next_hop_reason(
    member: MemberPolicy, session: Session, next_hop: str, ctx: RsContext
) -> Reason | None:
    if member.third_party_next_hop:
        lan = ctx.lan(session.family)
        if lan and ipaddress.ip_address(next_hop) in ipaddress.ip_network(lan):
            return None
        return _reason(RejectCode.NEXT_HOP, f"{next_hop} is not on the peering LAN {lan}")
    if ipaddress.ip_address(next_hop) == ipaddress.ip_address(session.neighbor):
        return None
    return _reason(RejectCode.NEXT_HOP, f"{next_hop} is not {session.neighbor}")


def explain_route(
    ctx: RsContext,
    asn: int,
    prefix: str,
    *,
    path: Sequence[int] | None = None,
    next_hop: str | None = None,
    communities: Sequence[tuple[int, ...]] = (),
) -> Explanation:
    """Every reason route server ``ctx`` would filter ``prefix`` from member ``asn``.

    ``path`` defaults to the member's own ASN and ``next_hop`` to the member's LAN
    address of the prefix's family (the common, well-behaved case).
    """
    member = ctx.member(asn)
    if member is None:
        why = next((e.reason for e in ctx.excluded if e.asn == asn), "not a member")
        raise NotFound(f"asn: AS{asn} has no session on {ctx.rs_name}: {why}")
    net = _network(prefix)
    session = _session(member, net.version, next_hop, ctx.rs_name)
    path = tuple(path) if path is not None else (asn,)
    next_hop = next_hop or session.neighbor
    try:
        ipaddress.ip_address(next_hop)
    except ValueError:
        raise ValidationError("next_hop", next_hop, "is not an IP address") from None
    if member.announcement_control:
        standard = {c for c in communities if len(c) == 2}
    else:
        standard = {c for c in communities if len(c) == 2 and c[0] not in (0, ctx.rs_asn)}
    reasons: list[Reason] = []
    notes: list[str] = []

    blackhole = False
    if BLACKHOLE in standard:
        if member.blackholing and ctx.blackhole(net.version):
            blackhole = True
        else:
            reasons.append(
                _reason(RejectCode.BLACKHOLE_NOT_ALLOWED, f"AS{asn} has blackholing disabled")
            )
    shortest, longest = ctx.limits.length_range(net.version)
    if net.prefixlen < shortest or (net.prefixlen > longest and not blackhole):
        reasons.append(
            _reason(RejectCode.PREFIX_LENGTH, f"/{net.prefixlen}, allowed /{shortest}-/{longest}")
        )
    bogon = _bogon(net)
    if bogon is not None:
        reasons.append(_reason(RejectCode.BOGON_PREFIX, f"within {bogon.prefix} ({bogon.why})"))
    reasons.extend(_path_reasons(member, path, ctx))
    hop = _next_hop_reason(member, session, next_hop, ctx)
    if hop is not None:
        reasons.append(hop)
    if _covered(net, member.prefixes(net.version), blackhole) is None:
        reasons.append(
            _reason(
                RejectCode.PREFIX_NOT_IN_AS_SET, f"no route object of {member.as_set} covers it"
            )
        )
    origin = path[-1] if path else 0
    if origin not in member.origin_asns:
        reasons.append(
            _reason(RejectCode.ORIGIN_NOT_IN_AS_SET, f"AS{origin} not in {member.as_set}")
        )
    if ctx.rpki.rtr_host:
        rpki = "not evaluated (ROAs come live from the RTR validator)"
    else:
        rpki = rpki_state(net, origin, ctx.rpki.roas)
        if rpki == "invalid" and not blackhole:
            reasons.append(_reason(RejectCode.RPKI_INVALID, f"no ROA allows AS{origin}"))
    accepted = not reasons
    if accepted and blackhole:
        notes.append(f"blackhole: next hop becomes {ctx.blackhole(net.version)}, NO_EXPORT added")
        if rpki == "invalid":
            notes.append("RPKI invalid ignored: blackhole routes are exempt")
    if accepted and GRACEFUL_SHUTDOWN in standard:
        notes.append("graceful shutdown: local preference 0")
    if accepted and NO_ADVERTISE in standard:
        notes.append("NO_ADVERTISE: announced to no member")
    return Explanation(
        rs_name=ctx.rs_name,
        asn=asn,
        prefix=str(net),
        path=path,
        next_hop=next_hop,
        session=session.name,
        accepted=accepted,
        rpki=rpki,
        reasons=tuple(reasons),
        notes=tuple(notes),
    )
