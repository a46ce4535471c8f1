"""Prefixes and ASNs that never belong in the global routing table (a leaf module).

The BIRD template and ``ixp rs explain`` both read these tuples, so the config
and the explanation cannot disagree. A ``BogonPrefix`` with ``exact=False``
matches the prefix and every more-specific of it (BIRD ``P+``); ``exact=True``
matches only the prefix itself (the default routes).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BogonPrefix:
    """A special-purpose range and the RFC that reserves it."""

    prefix: str
    why: str
    exact: bool = False


BOGON_PREFIXES_V4: tuple[BogonPrefix, ...] = (
    BogonPrefix("0.0.0.0/0", "default route", exact=True),
    BogonPrefix("0.0.0.0/8", "this network, RFC 791"),
    BogonPrefix("10.0.0.0/8", "private, RFC 1918"),
    BogonPrefix("100.64.0.0/10", "shared address space (CGN), RFC 6598"),
    BogonPrefix("127.0.0.0/8", "loopback, RFC 1122"),
    BogonPrefix("169.254.0.0/16", "link local, RFC 3927"),
    BogonPrefix("172.16.0.0/12", "private, RFC 1918"),
    BogonPrefix("192.0.0.0/24", "IETF protocol assignments, RFC 6890"),
    BogonPrefix("192.0.2.0/24", "documentation TEST-NET-1, RFC 5737"),
    BogonPrefix("192.88.99.0/24", "6to4 relay anycast, RFC 7526"),
    BogonPrefix("192.168.0.0/16", "private, RFC 1918"),
    BogonPrefix("198.18.0.0/15", "benchmarking, RFC 2544"),
    BogonPrefix("198.51.100.0/24", "documentation TEST-NET-2, RFC 5737"),
    BogonPrefix("203.0.113.0/24", "documentation TEST-NET-3, RFC 5737"),
    BogonPrefix("224.0.0.0/4", "multicast, RFC 5771"),
    BogonPrefix("240.0.0.0/4", "reserved and limited broadcast, RFC 1112 / RFC 919"),
)

BOGON_PREFIXES_V6: tuple[BogonPrefix, ...] = (
    BogonPrefix("::/0", "default route", exact=True),
    BogonPrefix("::/3", "outside global unicast 2000::/3 (loopback, mapped, discard), RFC 4291"),
    BogonPrefix("4000::/2", "outside global unicast 2000::/3, RFC 4291"),
    BogonPrefix("8000::/1", "outside global unicast (ULA, link local, multicast), RFC 4291"),
    BogonPrefix("2001::/32", "Teredo, RFC 4380"),
    BogonPrefix("2001:2::/48", "benchmarking, RFC 5180"),
    BogonPrefix("2001:10::/28", "ORCHID, RFC 4843"),
    BogonPrefix("2001:db8::/32", "documentation, RFC 3849"),
    BogonPrefix("2002::/16", "6to4, RFC 7526"),
    BogonPrefix("3ffe::/16", "former 6bone, RFC 3701"),
    BogonPrefix("3fff::/20", "documentation, RFC 9637"),
)

BOGON_ASN_RANGES: tuple[tuple[int, int, str], ...] = (
    (0, 0, "reserved, RFC 7607"),
    (23456, 23456, "AS_TRANS, RFC 6793"),
    (64496, 131071, "documentation, private and reserved, RFC 5398 / RFC 6996 / RFC 7300"),
    (4_200_000_000, 4_294_967_295, "private and reserved, RFC 6996 / RFC 7300"),
)


def is_bogon_asn(asn: int) -> bool:
    """Whether ``asn`` falls in one of the reserved ranges."""
    return any(first <= asn <= last for first, last, _ in BOGON_ASN_RANGES)
