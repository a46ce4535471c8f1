"""Reading validator JSON exports: rpki-client ``-j``, routinator/stayrtr ``json`` and ``jsonext``.

All three put the VRPs in a top-level ``roas`` list of objects with ``prefix``,
``maxLength`` and ``asn``; they differ in the ASN (``"AS123"`` or a bare
integer in rpki-client) and in where the trust anchor is (``ta``, or
``source[].tal`` in jsonext). Every entry is validated before anything is
stored, and the first bad one rejects the whole file with its index, field and
value: a half-loaded ROA set would turn invalid routes into "unknown" ones.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ixp.errors import ValidationError
from ixp.irr.prefixes import format_prefix, parse_prefix

_ASN_TEXT = re.compile(r"AS(\d+)", re.IGNORECASE)


def detect_format(document: dict[str, Any]) -> str:
    """``rpki-client``, ``jsonext`` or ``json`` (routinator/stayrtr), from the document's shape."""
    metadata = document.get("metadata")
    if isinstance(metadata, dict) and ("buildmachine" in metadata or "buildtime" in metadata):
        return "rpki-client"
    roas = document["roas"]
    first = roas[0] if roas and isinstance(roas[0], dict) else {}
    if isinstance(first.get("source"), list):
        return "jsonext"
    if isinstance(first.get("asn"), int):
        return "rpki-client"
    return "json"


def _asn(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, value, "is not an ASN")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _ASN_TEXT.fullmatch(value.strip())):
        number = int(match.group(1))
    else:
        raise ValidationError(field, value, "is not an ASN (expected AS<number> or a number)")
    if not 0 <= number < 2**32:
        raise ValidationError(field, value, "is outside the 32-bit ASN range")
    return number


def _trust_anchor(entry: dict[str, Any]) -> str | None:
    ta = entry.get("ta")
    if isinstance(ta, str):
        return ta[:64]
    sources = entry.get("source")
    if isinstance(sources, list) and sources and isinstance(sources[0], dict):
        tal = sources[0].get("tal")
        return tal[:64] if isinstance(tal, str) else None
    return None


Entry = tuple[int, int, int, int, int, str, str | None]


def parse_entry(index: int, entry: Any) -> Entry:
    """``(family, network, length, max length, asn, canonical prefix, trust anchor)``, validated.

    The leading numbers make a plain sort of entries the address order.
    """
    where = f"roas[{index}]"
    if not isinstance(entry, dict):
        raise ValidationError(where, entry, "is not an object")
    prefix = entry.get("prefix")
    parsed = parse_prefix(prefix) if isinstance(prefix, str) else None
    if parsed is None:
        raise ValidationError(f"{where}.prefix", prefix, "is not a valid prefix")
    family, value, length = parsed
    max_length = entry.get("maxLength")
    bits = 32 if family == 4 else 128
    if not isinstance(max_length, int) or isinstance(max_length, bool):
        raise ValidationError(f"{where}.maxLength", max_length, "is not an integer")
    if max_length < length:
        raise ValidationError(
            f"{where}.maxLength", max_length, f"is shorter than the prefix length of {prefix}"
        )
    if max_length > bits:
        raise ValidationError(f"{where}.maxLength", max_length, f"is more than {bits}")
    asn = _asn(entry.get("asn"), f"{where}.asn")
    canonical = format_prefix(family, value, length)
    return family, value, length, max_length, asn, canonical, _trust_anchor(entry)


def parse_document(text: str, source: str) -> tuple[str, list[Entry]]:
    """The format and the validated entries of a validator export; raises on the first problem."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "file", source, f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    if not isinstance(document, dict) or not isinstance(document.get("roas"), list):
        raise ValidationError("file", source, "has no top-level 'roas' list")
    entries = [parse_entry(i, entry) for i, entry in enumerate(document["roas"])]
    return detect_format(document), entries
