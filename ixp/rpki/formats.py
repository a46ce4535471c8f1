"""Reading validator JSON exports: rpki-client ``-j``, routinator/stayrtr ``json`` and ``jsonext``.

All three put the VRPs in a top-level ``roas`` list of objects with ``prefix``,
``maxLength`` and ``asn``; they differ in the ASN (``"AS123"`` or a bare
integer in rpki-client) and in where the trust anchor is (``ta``, or
``source[].tal`` in jsonext). Every entry is validated before anything is
stored, and the first bad one rejects the whole file with its index, field and
value: a half-loaded ROA set would turn invalid routes into "unknown" ones.
Validators write numbers and prefixes in ASCII, so digits of other scripts are
refused, as is any trust-anchor name a database could not store.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ixp import jsonload, validate
from ixp.errors import ValidationError
from ixp.irr.prefixes import format_prefix, parse_prefix
from ixp.models import RpkiRoa

_ASN_TEXT = re.compile(r"AS([0-9]{1,10})", re.IGNORECASE | re.ASCII)
# Longer text is no prefix, and a trust anchor must fit its column.
_PREFIX_MAX_LENGTH = RpkiRoa.prefix.type.length
_TA_MAX_LENGTH = RpkiRoa.ta.type.length


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
        raise ValidationError(
            field, validate.shown(value), "is not an ASN (expected AS<number> or a number)"
        )
    if not 0 <= number < 2**32:
        raise ValidationError(field, validate.shown(value), "is outside the 32-bit ASN range")
    return number


def _prefix(value: Any, field: str) -> tuple[int, int, int]:
    """``(family, network, length)``; only printable ASCII of a prefix's length is parsed."""
    plain = (
        isinstance(value, str)
        and len(value) <= _PREFIX_MAX_LENGTH
        and value.isascii()
        and value.isprintable()
    )
    parsed = parse_prefix(value) if plain else None
    if parsed is None:
        raise ValidationError(field, validate.shown(value), "is not a valid prefix")
    return parsed


@functools.lru_cache(maxsize=256)
def _storable(name: str) -> bool:
    """Whether a trust-anchor name can be stored; cached, as a file names only a handful."""
    try:
        validate.text(name, "ta", max_length=_TA_MAX_LENGTH)
    except ValidationError:
        return False
    return True


def _trust_anchor(entry: dict[str, Any], where: str) -> str | None:
    """The trust anchor's name (``ta``, or the first ``source[].tal`` in jsonext), checked."""
    ta, field = entry.get("ta"), f"{where}.ta"
    sources = entry.get("source")
    if not isinstance(ta, str) and isinstance(sources, list) and sources:
        ta = sources[0].get("tal") if isinstance(sources[0], dict) else None
        field = f"{where}.source[0].tal"
    if not isinstance(ta, str) or not ta:
        return None
    if _storable(ta):
        return ta
    return validate.text(ta, field, max_length=_TA_MAX_LENGTH)  # raises, naming the entry


Entry = tuple[int, int, int, int, int, str, str | None]


def parse_entry(index: int, entry: Any) -> Entry:
    """``(family, network, length, max length, asn, canonical prefix, trust anchor)``, validated.

    The leading numbers make a plain sort of entries the address order.
    """
    where = f"roas[{index}]"
    if not isinstance(entry, dict):
        raise ValidationError(where, validate.shown(entry), "is not an object")
    prefix = entry.get("prefix")
    family, value, length = _prefix(prefix, f"{where}.prefix")
    max_length = entry.get("maxLength")
    bits = 32 if family == 4 else 128
    field = f"{where}.maxLength"
    if not isinstance(max_length, int) or isinstance(max_length, bool):
        raise ValidationError(field, validate.shown(max_length), "is not an integer")
    if max_length < length:
        raise ValidationError(
            field, validate.shown(max_length), f"is shorter than the prefix length of {prefix}"
        )
    if max_length > bits:
        raise ValidationError(field, validate.shown(max_length), f"is more than {bits}")
    asn = _asn(entry.get("asn"), f"{where}.asn")
    canonical = format_prefix(family, value, length)
    return family, value, length, max_length, asn, canonical, _trust_anchor(entry, where)


def parse_document(data: bytes | str, source: str) -> tuple[str, list[Entry]]:
    """The format and the validated entries of a validator export; raises on the first problem."""
    document = jsonload.loads(data, source)
    if not isinstance(document, dict) or not isinstance(document.get("roas"), list):
        raise ValidationError("file", source, "has no top-level 'roas' list")
    entries = [parse_entry(i, entry) for i, entry in enumerate(document["roas"])]
    return detect_format(document), entries
