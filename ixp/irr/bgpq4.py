"""bgpq4 as a source: the parser of its JSON output.

bgpq4 is the registry client operators already trust: it speaks the IRRd
query protocol and follows AS-SET recursion server-side. It is asked for the
registered prefixes exactly (no ``-R``, whose aggregation would hide every
prefix covered by a wider object); ixp applies the more-specific allowance. Its
JSON output (``-j``) is stable and small: prefix lists are ``{"NN": [{"prefix":
"192.0.2.0/24", "exact": true}, {"prefix": ..., "exact": false, "less-equal": 24},
{"prefix": ..., "exact": false, "greater-equal": 23, "less-equal": 24}]}``
and ``-t`` ASN lists are ``{"NN": [64500, 64501]}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ixp.errors import SourceUnavailable, ValidationError
from ixp.irr.prefixes import format_prefix, parse_prefix

LIST_NAME = "NN"
MAX_EXPANDED_SUBPREFIXES = 4096
# An RPSL object name as bgpq4 takes it: AS123, AS-FOO, AS123:AS-FOO, or SOURCE::AS-FOO.
_OBJECT_NAME = re.compile(r"^(?:[A-Za-z0-9-]+::)?[A-Za-z0-9][A-Za-z0-9_:.-]*$")


def check_object_name(name: str) -> str:
    """``name`` if it is a plausible AS-SET or ASN; never lets an option reach bgpq4's argv."""
    if not _OBJECT_NAME.match(name) or len(name) > 255:
        raise ValidationError("as_set", name, "is not a valid AS-SET or ASN name")
    return name


def _entries(text: str) -> list[Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceUnavailable(f"bgpq4: output is not JSON: {exc}") from exc
    except (ValueError, RecursionError):  # a number of thousands of digits, deep nesting
        raise SourceUnavailable("bgpq4: output is not usable JSON") from None
    entries = document.get(LIST_NAME) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourceUnavailable(f"bgpq4: output has no {LIST_NAME!r} list")
    return entries


def parse_asn_list(text: str) -> list[int]:
    """The ASNs of ``bgpq4 -t -j`` output."""
    asns = []
    for item in _entries(text):
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item < 2**32:
            raise SourceUnavailable(f"bgpq4: {item!r} in the ASN list is not an ASN")
        asns.append(item)
    return asns


def _subprefixes(prefix: str, low: int) -> list[str]:
    parsed = parse_prefix(prefix)
    if parsed is None:
        raise SourceUnavailable(f"bgpq4: {prefix!r} is not a prefix")
    family, value, length = parsed
    bits = 32 if family == 4 else 128
    count = 1 << (low - length)
    if count > MAX_EXPANDED_SUBPREFIXES:
        raise SourceUnavailable(f"bgpq4: aggregate {prefix!r} ge {low} is too wide to expand")
    step = 1 << (bits - low)
    return [format_prefix(family, value + i * step, low) for i in range(count)]


def parse_prefix_list(text: str, family: int) -> list[tuple[str, int]]:
    """``(prefix, max_length)`` pairs of ``bgpq4 -j`` prefix-list output for one family.

    A ``greater-equal`` range (only produced by aggregation) is turned into its
    subprefixes at that length, so nothing broader than bgpq4 allowed is accepted.
    """
    pairs: list[tuple[str, int]] = []
    for item in _entries(text):
        prefix = item.get("prefix") if isinstance(item, dict) else None
        parsed = parse_prefix(prefix) if isinstance(prefix, str) else None
        if not isinstance(prefix, str) or parsed is None or parsed[0] != family:
            raise SourceUnavailable(f"bgpq4: {item!r} is not an IPv{family} prefix entry")
        length = parsed[2]
        if item.get("exact", False):
            pairs.append((prefix, length))
            continue
        high = item.get("less-equal", length)
        low = item.get("greater-equal", length)
        bits = 32 if family == 4 else 128
        if (
            not (isinstance(high, int) and isinstance(low, int))
            or not length <= low <= high <= bits
        ):
            raise SourceUnavailable(f"bgpq4: {item!r} has an invalid length range")
        if low == length:
            pairs.append((prefix, high))
        else:
            pairs.extend((sub, high) for sub in _subprefixes(prefix, low))
    return pairs
