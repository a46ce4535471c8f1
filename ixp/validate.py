"""Validation of the identifiers an exchange deals in: ASNs, AS-SET names, MACs, prefixes.

Each function returns the normalised value or raises ``ValidationError`` naming
the field and the value, so callers can validate a whole input before writing.
Values in messages go through ``shown`` (from ``ixp.errors``), so a hostile
value (a name of thousands of characters, a number of thousands of digits, a
list nested a thousand deep) still makes a short, printable, one-line error.
"""

from __future__ import annotations

import re

import netaddr

from ixp.errors import ValidationError
from ixp.errors import shown as shown  # re-exported: callers use validate.shown

MAX_ASN = 4_294_967_295

# Never valid for anyone (RFC 7607 AS0, RFC 6793 AS_TRANS, RFC 7300 last ASNs).
_NEVER_ASNS: dict[int, str] = {
    0: "is reserved (RFC 7607)",
    23456: "is AS_TRANS (RFC 6793)",
    65535: "is reserved (RFC 7300)",
    MAX_ASN: "is reserved (RFC 7300)",
}
# Valid in a lab, never on a production exchange: (first, last, why).
_LAB_ONLY_ASN_RANGES: tuple[tuple[int, int, str], ...] = (
    (64496, 64511, "is a documentation ASN (RFC 5398)"),
    (64512, 65534, "is a private ASN (RFC 6996)"),
    (65536, 65551, "is a documentation ASN (RFC 5398)"),
    (65552, 131071, "is reserved by IANA"),
    (4_200_000_000, 4_294_967_294, "is a private ASN (RFC 6996)"),
)

# ASCII digits only: ``\d`` and ``int()`` also read Arabic-Indic and other scripts'
# digits, so an ASN could mean another number than the one an operator sees.
_ASN_TEXT = re.compile(r"(?:AS)?([0-9]{1,10})", re.IGNORECASE | re.ASCII)
_RPSL_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")
_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Never stored: C0 and C1 control characters and DEL (NUL among them: PostgreSQL
# refuses it, SQLite stores it), lone surrogates (a JSON "\ud800" escape gives
# one; no database can encode it) and the Unicode line and paragraph separators.
# Every free-text field stored today is one line, so tab and newline are refused too.
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def quoted(value: object) -> str:
    """``value`` as a message built by hand shows it: its repr, cut short like ``shown``."""
    return repr(shown(value))


def asn(value: object, field: str = "asn", *, allow_lab: bool = False) -> int:
    """A 32-bit public ASN as an int; ``AS123`` and ``123`` are both accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _ASN_TEXT.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValidationError(field, shown(value), "is not an AS number")
        number = int(match.group(1))
    if number < 0:
        raise ValidationError(field, shown(value), "is not an AS number")
    if number > MAX_ASN:
        raise ValidationError(field, shown(value), "is larger than 4294967295")
    if number in _NEVER_ASNS:
        raise ValidationError(field, shown(value), _NEVER_ASNS[number])
    for first, last, why in _LAB_ONLY_ASN_RANGES:
        if first <= number <= last and not allow_lab:
            raise ValidationError(field, shown(value), f"{why}; allowed only for lab use")
    return number


def as_set(value: str, field: str = "as_set") -> str:
    """An RPSL as-set name (or a single ``ASn``), upper-cased.

    RFC 2622 names: ``AS-FOO``; hierarchical names join ASNs and set names with
    ``:`` and contain at least one set name (``AS123:AS-FOO``); an optional
    ``SOURCE::`` prefix names the registry, as bgpq4 and IX-F exports write it.
    """
    text = value.strip()
    if not text or len(text) > 255 or any(c.isspace() for c in text):
        raise ValidationError(field, shown(value), "is not a valid AS-SET name")
    name = text
    if "::" in text:
        source, _, name = text.partition("::")
        if not _SOURCE.fullmatch(source):
            raise ValidationError(field, shown(value), "has an invalid registry source before '::'")
    parts = name.split(":")
    has_set = False
    for part in parts:
        if part.upper().startswith("AS-"):
            if not _RPSL_NAME.fullmatch(part):
                raise ValidationError(field, shown(value), "is not a valid AS-SET name")
            has_set = True
        elif _ASN_TEXT.fullmatch(part) and part.upper().startswith("AS"):
            asn(part, field)
        else:
            raise ValidationError(field, shown(value), "is not a valid AS-SET name")
    if len(parts) > 1 and not has_set:
        raise ValidationError(field, shown(value), "is not a valid AS-SET name")
    return text.upper()


def mac(value: str, field: str = "mac") -> str:
    """A unicast MAC address in lower-case colon notation."""
    try:
        eui = netaddr.EUI(value.strip())
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise ValidationError(field, shown(value), "is not a MAC address") from None
    if eui.version != 48:
        raise ValidationError(field, shown(value), "is not a 48-bit MAC address")
    if int(eui) == 0 or eui.words[0] & 1:
        raise ValidationError(field, shown(value), "is not a unicast MAC address")
    return str(eui).replace("-", ":").lower()


def _require_text(value: object, field: str) -> None:
    """Input from JSON (the web API, IX-F files) may be a number, a list or null."""
    if not isinstance(value, str):
        raise ValidationError(field, shown(value), "is not text")


def network(value: str, field: str, family: int) -> netaddr.IPNetwork:
    """A subnet given as its network address with mask (``192.0.2.0/24``)."""
    _require_text(value, field)
    try:
        net = netaddr.IPNetwork(value.strip())
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise ValidationError(field, shown(value), "is not a prefix") from None
    if net.version != family or "/" not in value:
        raise ValidationError(field, shown(value), f"is not an IPv{family} prefix with a length")
    if net.ip != net.network:
        raise ValidationError(field, shown(value), f"has host bits set (network is {net.cidr})")
    return net


def address(value: str, field: str, family: int) -> netaddr.IPAddress:
    """A single IP address of the given family (no mask)."""
    _require_text(value, field)
    try:
        ip = netaddr.IPAddress(value.strip())
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise ValidationError(field, shown(value), f"is not an IPv{family} address") from None
    if ip.version != family:
        raise ValidationError(field, shown(value), f"is not an IPv{family} address")
    return ip


def country(value: str, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    _require_text(value, field)
    code = value.strip().upper()
    if not _COUNTRY.fullmatch(code):
        raise ValidationError(field, shown(value), "is not a two-letter country code")
    return code


def email(value: str, field: str) -> str:
    """A plausible e-mail address (the NOC must be reachable; format only)."""
    address = text(value, field, max_length=320).strip()
    if not _EMAIL.fullmatch(address):
        raise ValidationError(field, shown(value), "is not an e-mail address")
    return address


def positive(value: int, field: str, *, maximum: int = 10_000_000) -> int:
    """A limit such as max-prefix: 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(field, shown(value), f"must be a whole number from 1 to {maximum}")
    return value


def text(value: str, field: str, *, max_length: int = 500) -> str:
    """Free text (names, descriptions): stored as given, if it is one line that fits its column.

    Any script is welcome (including the joiners Urdu and Persian spelling needs);
    what no database or terminal takes safely is refused, naming the character.
    ``max_length`` counts characters, as PostgreSQL's ``VARCHAR(n)`` does.
    """
    if not isinstance(value, str):
        raise ValidationError(field, shown(value), "is not text")
    if not value.strip():
        raise ValidationError(field, shown(value), "must not be empty")
    unsafe = _UNSAFE_TEXT.search(value)
    if unsafe is not None:
        raise ValidationError(
            field, shown(value), f"contains {_kind(unsafe.group())} at position {unsafe.start()}"
        )
    if len(value) > max_length:
        raise ValidationError(field, shown(value), f"is longer than {max_length} characters")
    return value


def _kind(char: str) -> str:
    """How an error names a refused character: its kind and its code point."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "lone surrogate"
    elif char in "\u2028\u2029":
        kind = "line separator"
    else:
        kind = "control character"
    return f"{kind} U+{code:04X}"
