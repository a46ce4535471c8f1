"""A hand-built route-server context: the policy tests' exchange, no database involved."""

from __future__ import annotations

from dataclasses import replace

from ixp.rs.types import (
    Collector,
    Limits,
    MemberPolicy,
    PrefixRule,
    RegistryState,
    RoaEntry,
    RpkiSource,
    RsContext,
    Session,
)

RS_ASN = 59900
RS4, RS6 = "185.1.0.1", "2001:7f8:ff::1"


def _length(prefix: str) -> int:
    return int(prefix.rpartition("/")[2])


def member(
    asn: int,
    name: str,
    v4: dict[str, int],
    v6: dict[str, int],
    ipv4: str | None,
    ipv6: str | None,
    **changes: object,
) -> MemberPolicy:
    """A member with one session per given address and ``changes`` applied to the defaults."""
    sessions = []
    if ipv4:
        sessions.append(Session(f"AS{asn}_v4_1", 4, ipv4, RS4, 100, 1000))
    if ipv6:
        sessions.append(Session(f"AS{asn}_v6_1", 6, ipv6, RS6, 20, 200))
    policy = MemberPolicy(
        asn=asn,
        display_name=name,
        legal_name=f"{name} Ltd",
        as_set=f"AS{asn}:AS-CUSTOMERS",
        origin_asns=(asn,),
        prefixes_v4=tuple(PrefixRule(p, _length(p), m) for p, m in sorted(v4.items())),
        prefixes_v6=tuple(PrefixRule(p, _length(p), m) for p, m in sorted(v6.items())),
        max_prefix_action="restart",
        announcement_control=True,
        blackholing=False,
        third_party_next_hop=False,
        registry=RegistryState.current,
        sessions=tuple(sessions),
    )
    return replace(policy, **changes)


ALPHA = member(
    10101,
    "Alpha Networks",
    {"31.10.0.0/16": 24, "45.21.0.0/24": 24},
    {"2a0a:1000::/32": 48},
    "185.1.0.11",
    "2001:7f8:ff::11",
    origin_asns=(10101, 10103),
    blackholing=True,
)
BRAVO = member(
    20202,
    "Bravo Telecom",
    {"62.40.0.0/18": 24},
    {"2a0b:2000::/32": 48},
    "185.1.0.12",
    "2001:7f8:ff::12",
    third_party_next_hop=True,
    max_prefix_action="block",
)
TIER1 = member(3356, "Tier One", {"4.0.0.0/9": 24}, {}, "185.1.0.13", None)

ROAS = (
    RoaEntry("31.10.0.0/16", 24, 10101),
    RoaEntry("45.21.0.0/24", 24, 50505),
    RoaEntry("2a0a:1000::/32", 48, 10101),
)


def context(**changes: object) -> RsContext:
    """The sample route server ``rs1`` with ALPHA, BRAVO and TIER1 as members."""
    ctx = RsContext(
        exchange="Demo IX",
        rs_name="rs1",
        rs_asn=RS_ASN,
        router_id=RS4,
        ipv4=RS4,
        ipv6=RS6,
        lan_v4="185.1.0.0/24",
        lan_v6="2001:7f8:ff::/64",
        blackhole_v4="185.1.0.66",
        blackhole_v6="2001:7f8:ff::66",
        limits=Limits(8, 24, 16, 48, 32, (174, 1299, 3356), 10),
        rpki=RpkiSource(ROAS, None, 3323),
        collector=Collector(4_200_000_000, "185.1.0.250", "2001:7f8:ff::250"),
        members=(TIER1, ALPHA, BRAVO),
        excluded=(),
    )
    return replace(ctx, **changes)
