"""Prefix parsing, bgpq4 ``-R`` style max lengths, and safe aggregation of prefix lists.

Parsing uses ``socket.inet_pton`` rather than ``ipaddress``: it is about eight
times faster, and a dump of a million route objects goes through here once per
object while indexing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from ixp.irr.types import PrefixEntry

_FAMILY = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


def is_ascii_number(text: str) -> bool:
    """Whether ``text`` is a plain decimal number of ASCII digits.

    ``str.isdigit`` alone also accepts superscripts and other scripts' digits
    (U+00B2, U+0665), which ``int`` then rejects or reads, so a registry object
    could crash the reader or mean another number than the one an operator sees.
    """
    return text.isascii() and text.isdigit()


def parse_prefix(text: str) -> tuple[int, int, int] | None:
    """``(family, network as int, length)`` of a CIDR prefix, or None if it is not one.

    Host bits must be zero (registries reject such objects; accepting them would
    widen a filter silently).
    """
    address, slash, length_text = text.partition("/")
    if not slash or not is_ascii_number(length_text) or len(length_text) > 3:
        return None
    family = 6 if ":" in address else 4
    af, bits = _FAMILY[family]
    try:
        value = int.from_bytes(socket.inet_pton(af, address), "big")
    except (OSError, ValueError, UnicodeError):  # not an address; NUL; lone surrogates
        return None
    length = int(length_text)
    if length > bits or value & ((1 << (bits - length)) - 1):
        return None
    return family, value, length


def format_prefix(family: int, value: int, length: int) -> str:
    """The canonical text of a prefix (compressed IPv6, lower case)."""
    af, bits = _FAMILY[family]
    return f"{socket.inet_ntop(af, value.to_bytes(bits // 8, 'big'))}/{length}"


def canonical_prefix(text: str) -> tuple[int, str] | None:
    """``(family, canonical text)`` of a prefix, or None if it is not a valid one."""
    parsed = parse_prefix(text)
    if parsed is None:
        return None
    return parsed[0], format_prefix(*parsed)


def aggregate(family: int, entries: Iterable[tuple[str, int]]) -> tuple[PrefixEntry, ...]:
    """Sorted, deduplicated entries with every entry covered by another one removed.

    An entry is covered when a shorter (or equal) prefix contains it and allows
    at least the same ``max_length``: the shorter one already accepts every
    route the covered one would. Siblings are never merged into their parent,
    because that would also accept the parent itself, which nobody registered.
    Prefixes are expected in canonical text (as the index and bgpq4 write them)
    and come out as given; entries of the other family or invalid ones are dropped.
    """
    af, bits = _FAMILY[family]
    parsed: list[tuple[int, int, int, str]] = []
    for prefix, max_length in entries:
        address, _, length_text = prefix.partition("/")
        try:
            value = int.from_bytes(socket.inet_pton(af, address), "big")
        except OSError:
            continue
        parsed.append((value, int(length_text), -max_length, prefix))
    parsed.sort()
    kept: list[PrefixEntry] = []
    # Covering candidates, outermost first; sorted order visits parents before children.
    stack: list[tuple[int, int, int]] = []
    for value, length, negative_max, prefix in parsed:
        while stack and (value >> stack[-1][1]) != stack[-1][0]:
            stack.pop()
        if any(-negative_max <= outer[2] for outer in stack):
            continue
        shift = bits - length
        stack.append((value >> shift, shift, -negative_max))
        kept.append(PrefixEntry(prefix, -negative_max))
    return tuple(kept)


def max_length_for(length: int, limit: int) -> int:
    """bgpq4 ``-R limit``: allow more-specifics up to ``limit``, never shorter than registered."""
    return max(length, limit)


def split_too_short(
    entries: Iterable[tuple[str, int]], min_length: int
) -> tuple[list[tuple[str, int]], list[str]]:
    """``(kept, dropped)``: entries at least ``min_length`` long, and the prefixes of the rest.

    A registry object shorter than the route server's own minimum length (a
    default route above all) can never be announced through it, and in a prefix
    filter it would cover, and so aggregate away and open up, everything else the
    member registered. It never enters a filter, from any source.
    """
    kept: list[tuple[str, int]] = []
    dropped: list[str] = []
    for prefix, max_length in entries:
        length = int(prefix.rpartition("/")[2])
        if length < min_length:
            dropped.append(prefix)
        else:
            kept.append((prefix, max_length))
    return kept, list(dict.fromkeys(dropped))


def address_span(family: int, entries: Iterable[PrefixEntry]) -> int:
    """How many addresses the prefixes of ``entries`` cover together (overlaps counted once).

    The safety rules compare this, not only the number of entries: one wide
    object can widen a filter more than a thousand narrow ones.
    """
    _, bits = _FAMILY[family]
    ranges = []
    for entry in entries:
        parsed = parse_prefix(entry.prefix)
        if parsed is not None:
            size = 1 << (bits - parsed[2])
            ranges.append((parsed[1], parsed[1] + size))
    ranges.sort()
    total = 0
    end = -1
    for low, high in ranges:
        if high <= end:
            continue
        total += high - max(low, end)
        end = high
    return total
