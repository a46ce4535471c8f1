"""A synthetic exchange for the route-server benchmark: members, a registry dump and ROAs.

Shaped like a real exchange's data rather than like uniform noise:

- Networks hold public ASNs only (2-byte 1000-59999 without AS_TRANS and the
  usual transit-free networks, then 4-byte from 196608), so no route is
  filtered for a bogon ASN; prefixes come from 11.0.0.0 upwards and from
  2a00::/12, clear of every bogon range.
- Route objects per network are heavy-tailed: most networks register one to a
  few prefixes, a few register thousands; some register more-specifics of
  their own aggregates (what the prefix-list aggregation must fold).
- Members are mostly small WISPs (their ASN alone or an AS-SET of a couple of
  small customers: 1-20 prefixes), about a third are regional networks with
  customer cones of tens to hundreds of prefixes, and a few are transit
  networks whose AS-SETs nest other sets (including other members' sets) to
  thousands of prefixes. The rest of the registry is other networks' AS-SETs,
  nested and occasionally looping, as in the public dumps.
- ROAs (rpki-client ``-j`` JSON) cover the routes of about half of the
  networks, some with a max length that allows more-specifics, and a few
  deliberately wrong ones make some registered routes RPKI-invalid.

``bench/irr_index.py`` has a generic dump generator, but its ASNs run through
the reserved 64496-131071 range and its set sizes come from one random draw,
so it cannot give members whose routes pass the bogon filters in this mix.
Everything here is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TRANSIT_FREE = {174, 209, 286, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511}
TRANSIT_FREE |= {6453, 6461, 6762, 6830, 7018, 12956}
RS_ASN = 61000
LAN4 = "185.1.192.0/22"
LAN6 = "2001:7f8:ab:1::/64"
ROUTE_SERVERS = (
    ("rs1", "185.1.192.1", "2001:7f8:ab:1::1"),
    ("rs2", "185.1.192.2", "2001:7f8:ab:1::2"),
)
V4_LENGTHS = (24,) * 65 + (23,) * 10 + (22,) * 15 + (21,) * 5 + (20,) * 4 + (19,)
V6_LENGTHS = (48,) * 5 + (44, 40, 40, 36, 32, 32)
SET_WORDS = ("NET", "WISP", "FIBER", "TELECOM", "ISP", "CUSTOMERS", "AIR", "LINK")
NAME_WORDS = ("Valley", "Mountain", "River", "Coast", "Prairie", "Metro", "Rural", "Lake")
NAME_KINDS = ("Wireless", "Fiber", "Networks", "Telecom", "Internet", "Broadband")


@dataclass(frozen=True)
class SyntheticMember:
    """One member as it is onboarded: ASN, AS-SET, LAN addresses, max-prefix limits."""

    asn: int
    name: str
    as_set: str
    ipv4: str
    ipv6: str | None
    max_prefix4: int
    max_prefix6: int
    kind: str


@dataclass
class SyntheticExchange:
    """The generated exchange plus the in-memory registry it was written from."""

    members: list[SyntheticMember]
    dump: Path
    roas: Path
    object_counts: dict[str, int]
    roa_count: int
    routes: dict[int, tuple[list[str], list[str]]] = field(repr=False)
    as_sets: dict[str, list[str]] = field(repr=False)

    def cone(self, as_set: str) -> set[int]:
        """The ASNs an AS-SET (or a plain ``ASn``) expands to, loops and missing sets survived."""
        if as_set.startswith("AS") and as_set[2:].isdigit():
            return {int(as_set[2:])}
        seen, asns, todo = {as_set}, set(), [as_set]
        while todo:
            for item in self.as_sets.get(todo.pop(), ()):
                if item[2:].isdigit():
                    asns.add(int(item[2:]))
                elif item not in seen:
                    seen.add(item)
                    todo.append(item)
        return asns

    def announcements(
        self, member: SyntheticMember, family: int
    ) -> list[tuple[str, tuple[int, ...]]]:
        """What the member's router announces: each registered prefix of its cone, once.

        The path is the member's ASN, then the registered origin when that is a
        customer, so route-origin validation sees the same origin as the ROAs.
        """
        found: dict[str, tuple[int, ...]] = {}
        slot = 0 if family == 4 else 1
        for asn in sorted(self.cone(member.as_set)):
            path = (member.asn,) if asn == member.asn else (member.asn, asn)
            for prefix in self.routes.get(asn, ([], []))[slot]:
                found.setdefault(prefix, path)
        return sorted(found.items())


class _Allocator:
    """Hands out aligned, non-overlapping prefixes upwards from a start address."""

    def __init__(self, start: int, bits: int, limit: int) -> None:
        self.cursor = start
        self.bits = bits
        self.limit = limit

    def take(self, length: int) -> int:
        size = 1 << (self.bits - length)
        value = (self.cursor + size - 1) // size * size
        if value + size > self.limit:
            raise ValueError("synthetic address space exhausted; use fewer objects")
        self.cursor = value + size
        return value


def _v4(value: int, length: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}/{length}"


def _v6(value: int, length: int) -> str:
    return f"{ipaddress.IPv6Address(value)}/{length}"


def _public_asns(count: int, rng: random.Random) -> list[int]:
    low = [a for a in range(1000, 60000) if a not in TRANSIT_FREE and a != 23456][:count]
    pool = low + list(range(196_608, 196_608 + count - len(low)))
    rng.shuffle(pool)
    return pool


def _route_counts(networks: int, total: int, rng: random.Random) -> list[int]:
    """At least one object per network, the rest spread with heavy-tailed weights."""
    if total < networks:
        chosen = set(rng.sample(range(networks), total))
        return [int(index in chosen) for index in range(networks)]
    counts = [1] * networks
    weights = [min(rng.paretovariate(1.2), 3000.0) for _ in range(networks)]
    for index in rng.choices(range(networks), weights, k=total - networks):
        counts[index] += 1
    return counts


def _v4_routes(count: int, alloc: _Allocator, rng: random.Random) -> list[str]:
    routes: list[str] = []
    first_value, first_length = 0, 32
    for n in range(count):
        if n and first_length < 24 and rng.random() < 0.1:
            offset = rng.randrange(1 << (24 - first_length)) << 8
            routes.append(_v4(first_value + offset, 24))
            continue
        length = rng.choice(V4_LENGTHS)
        value = alloc.take(length)
        if not n:
            first_value, first_length = value, length
        routes.append(_v4(value, length))
    return sorted(set(routes))


def _object(lines: list[tuple[str, str]]) -> str:
    return "".join(f"{key + ':':<16}{value}\n" for key, value in lines) + "\n"


def _route_object(kind: str, prefix: str, asn: int, serial: int) -> str:
    return _object(
        [
            (kind, prefix),
            ("descr", f"Customer network {serial}"),
            ("origin", f"AS{asn}"),
            ("mnt-by", f"MNT-AS{asn}"),
            ("created", f"2019-04-{1 + serial % 28:02d}T10:00:00Z"),
            ("last-modified", f"2024-11-{1 + serial % 28:02d}T10:00:00Z"),
            ("source", "RIPE"),
        ]
    )


def _aut_num(asn: int) -> str:
    return _object(
        [
            ("aut-num", f"AS{asn}"),
            ("as-name", f"NET-{asn}"),
            ("org", f"ORG-N{asn}-RIPE"),
            ("import", f"from AS{asn + 1} accept ANY"),
            ("export", f"to AS{asn + 1} announce AS{asn}"),
            ("admin-c", "NOC1-RIPE"),
            ("tech-c", "NOC1-RIPE"),
            ("status", "ASSIGNED"),
            ("mnt-by", f"MNT-AS{asn}"),
            ("source", "RIPE"),
        ]
    )


def _as_set_object(name: str, members: list[str]) -> str:
    lines = [("as-set", name), ("descr", f"Customer cone of {name}")]
    for start in range(0, len(members), 8):
        lines.append(("members", ", ".join(members[start : start + 8])))
    lines += [("tech-c", "NOC1-RIPE"), ("mnt-by", "MNT-SETS"), ("source", "RIPE")]
    return _object(lines)


@dataclass
class _Registry:
    asns: list[int]
    routes: dict[int, tuple[list[str], list[str]]]
    sets: dict[str, list[str]] = field(default_factory=dict)


def _registry(objects: int, rng: random.Random) -> tuple[_Registry, int]:
    networks = int(objects * 0.12)
    route4 = int(objects * 0.70)
    route6 = int(objects * 0.12)
    asns = _public_asns(networks, rng)
    v4 = _Allocator(11 << 24, 32, 100 << 24)
    v6 = _Allocator(0x2A00 << 112, 128, 0x2A10 << 112)
    counts4 = _route_counts(networks, route4, rng)
    counts6 = _route_counts(int(networks * 0.6), route6, rng)
    counts6 += [0] * (networks - len(counts6))
    routes = {}
    for index, asn in enumerate(asns):
        prefixes6 = []
        for _ in range(counts6[index]):
            length = rng.choice(V6_LENGTHS)
            prefixes6.append(_v6(v6.take(length), length))
        routes[asn] = (_v4_routes(counts4[index], v4, rng), prefixes6)
    return _Registry(asns, routes), objects - networks - route4 - route6


def _small_networks(registry: _Registry) -> list[int]:
    return [asn for asn in registry.asns if len(registry.routes[asn][0]) <= 4]


def _member_networks(registry: _Registry, members: int) -> list[tuple[int, str]]:
    """Member ASNs with their size class: WISPs own few prefixes, transit networks many."""
    candidates = sorted(registry.asns[: members * 3], key=lambda a: len(registry.routes[a][0]))
    large = max(1, members * 3 // 100)
    medium = members * 32 // 100
    small = members - large - medium
    chosen = [(asn, "small") for asn in candidates[:small]]
    chosen += [(asn, "medium") for asn in candidates[small : small + medium]]
    chosen += [(asn, "large") for asn in candidates[-large:]]
    return chosen


def _member_sets(
    registry: _Registry, chosen: list[tuple[int, str]], noise: list[str], rng: random.Random
) -> list[str]:
    """Each member's AS-SET name (the set itself is added to ``registry.sets``)."""
    small = [asn for asn in registry.asns if len(registry.routes[asn][0]) <= 4]
    names: list[str] = []
    for asn, kind in chosen:
        if kind == "small" and rng.random() < 0.5:
            names.append(f"AS{asn}")
            continue
        name = f"AS-{rng.choice(SET_WORDS)}{asn}"
        members = [f"AS{asn}"]
        if kind == "small":
            members += [f"AS{a}" for a in rng.sample(small, rng.randint(0, 2))]
        elif kind == "medium":
            members += [f"AS{a}" for a in rng.sample(registry.asns, rng.randint(5, 40))]
            if rng.random() < 0.5:
                members += rng.sample(noise, rng.randint(1, 2))
        else:
            members += [f"AS{a}" for a in rng.sample(registry.asns, rng.randint(100, 600))]
            members += rng.sample(noise, rng.randint(1, 3))
        registry.sets[name] = members
        names.append(name)
    # Transit members' cones include some other members' sets, as real ones do.
    cones = [n for n, (_, k) in zip(names, chosen, strict=True) if k == "medium"]
    for name, (_, kind) in zip(names, chosen, strict=True):
        if kind == "large" and cones:
            registry.sets[name] += rng.sample(cones, min(len(cones), rng.randint(2, 6)))
    return names


def _noise_sets(registry: _Registry, count: int, rng: random.Random, first: int = 0) -> list[str]:
    """Other networks' AS-SETs: mostly tiny, a heavy tail, nested, sometimes looping."""
    names = [f"AS-{rng.choice(SET_WORDS)}-{i}" for i in range(first, first + count)]
    for index, name in enumerate(names):
        owner = rng.choice(registry.asns)
        size = min(int(rng.paretovariate(1.1)) - 1, 2000)
        members = [f"AS{owner}", *(f"AS{a}" for a in rng.sample(registry.asns, size))]
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                forward = rng.random() < 0.95
                child = index + 1 + rng.randrange(50) if forward else rng.randrange(count)
                members.append(names[child % count])
        registry.sets[name] = list(dict.fromkeys(members))
    return names


def _lan_address(network: str, index: int) -> str:
    return str(ipaddress.ip_network(network)[index])


def _members(
    registry: _Registry,
    chosen: list[tuple[int, str]],
    names: list[str],
    cone: SyntheticExchange,
    rng: random.Random,
) -> list[SyntheticMember]:
    members = []
    for index, ((asn, kind), as_set) in enumerate(zip(chosen, names, strict=True)):
        asns = cone.cone(as_set)
        count4 = sum(len(registry.routes[a][0]) for a in asns if a in registry.routes)
        count6 = sum(len(registry.routes[a][1]) for a in asns if a in registry.routes)
        members.append(
            SyntheticMember(
                asn=asn,
                name=f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_KINDS)} {index}",
                as_set=as_set,
                ipv4=_lan_address(LAN4, 10 + index),
                ipv6=_lan_address(LAN6, 10 + index) if rng.random() < 0.85 else None,
                max_prefix4=max(10, count4 * 2),
                max_prefix6=max(10, count6 * 2),
                kind=kind,
            )
        )
    return sorted(members, key=lambda m: m.asn)


def _dump_text(registry: _Registry) -> Iterator[str]:
    yield "% Synthetic RIPE-style dump for bench/rs_build.py\n\n"
    serial = 0
    for asn in registry.asns:
        yield _aut_num(asn)
    for family, kind in ((0, "route"), (1, "route6")):
        for asn in registry.asns:
            for prefix in registry.routes[asn][family]:
                serial += 1
                yield _route_object(kind, prefix, asn, serial)
    for name, members in registry.sets.items():
        yield _as_set_object(name, members)


def _roas(registry: _Registry, rng: random.Random) -> list[dict[str, object]]:
    """ROAs for about half of the networks; 2% of those get one wrong origin (an invalid)."""
    expires = int((dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).timestamp())
    roas: list[dict[str, object]] = []
    for asn in registry.asns:
        if rng.random() >= 0.5:
            continue
        loose = rng.random() < 0.2
        wrong = rng.random() < 0.02
        for family, longest in ((0, 24), (1, 48)):
            for n, prefix in enumerate(registry.routes[asn][family]):
                length = int(prefix.rpartition("/")[2])
                origin = rng.choice(registry.asns) if wrong and n == 0 else asn
                roas.append(
                    {
                        "asn": origin,
                        "prefix": prefix,
                        "maxLength": max(length, longest) if loose else length,
                        "ta": "ripe",
                        "expires": expires,
                    }
                )
    return roas


def generate(directory: Path, *, members: int, objects: int, seed: int = 2026) -> SyntheticExchange:
    """Write ``registry.db`` and ``roas.json`` into ``directory`` and return the exchange."""
    rng = random.Random(seed)
    registry, set_count = _registry(objects, rng)
    if members > set_count or members * 10 > len(registry.asns):
        raise ValueError(f"{objects} objects are too few for {members} members")
    chosen = _member_networks(registry, members)
    noise = _noise_sets(registry, set_count - members, rng)
    names = _member_sets(registry, chosen, noise, rng)
    written = len(registry.asns) + len(registry.sets)
    written += sum(len(r[0]) + len(r[1]) for r in registry.routes.values())
    # Members without a set object and folded duplicates leave a gap: fill it with more sets.
    _noise_sets(registry, max(0, objects - written), rng, first=len(noise))
    exchange = SyntheticExchange(
        members=[],
        dump=directory / "registry.db",
        roas=directory / "roas.json",
        object_counts={
            "aut-num": len(registry.asns),
            "route": sum(len(r[0]) for r in registry.routes.values()),
            "route6": sum(len(r[1]) for r in registry.routes.values()),
            "as-set": len(registry.sets),
        },
        roa_count=0,
        routes=registry.routes,
        as_sets=registry.sets,
    )
    exchange.members = _members(registry, chosen, names, exchange, rng)
    with exchange.dump.open("w", encoding="ascii") as out:
        out.writelines(_dump_text(registry))
    roas = _roas(registry, rng)
    exchange.roa_count = len(roas)
    buildtime = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "metadata": {"buildmachine": "bench", "buildtime": buildtime, "vrps": len(roas)},
        "roas": roas,
    }
    exchange.roas.write_text(json.dumps(document), encoding="ascii")
    return exchange
