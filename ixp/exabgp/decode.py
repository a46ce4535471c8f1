"""ExaBGP's JSON API stream, turned into typed updates.

ExaBGP (5.x, ``encoder json``) writes one JSON object per line to its API
process: ``"type": "state"`` for session changes (``connected``, ``up``,
``down`` with a reason), ``"type": "update"`` whose ``message`` holds either
an ``update`` (``attribute``, ``announce`` by family and next hop, ``withdraw``
by family) or an ``eor`` (end of RIB), and other types (``notification``,
``open``, ``keepalive``...) the monitor does not need. With ADD-PATH each NLRI
carries ``path-information`` as a dotted quad, which is BIRD's path id.

The decoder interns AS paths, community tuples and whole attribute sets: on a
route server most routes share a handful of attribute sets per member, so the
RIB stores a pointer instead of a copy, which keeps a stored route well under a
kilobyte and makes comparing attribute sets cheap.

Every line is checked before it reaches the RIB: addresses, prefixes, path ids,
ASNs and attribute values must have the type and range BGP gives them, because
a value of the wrong type does its damage later and elsewhere (an unhashable
peer in the RIB's dictionaries, a text ASN in a sort, an NLRI that is no
prefix in the reachability figures). Anything else is a ``MalformedMessage``,
the one error ``decode`` raises. ExaBGP 5 labels confederation segments
``as-sequence`` too, so the AS path is every segment's ASNs in order; the
collector's eBGP session never carries confederation segments anyway.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import socket
from dataclasses import dataclass
from typing import Any, NamedTuple

from ixp.errors import SourceUnavailable

Community = tuple[int, int]
RouteKey = tuple[str, int]  # (prefix, ADD-PATH path id; 0 without ADD-PATH)
LargeCommunity = tuple[int, int, int]


class MalformedMessage(SourceUnavailable):
    """A line from ExaBGP that is not the JSON the monitor understands; it is logged and skipped.

    ``line`` is the whole line; the message quotes its first 200 characters, so
    a hostile line cannot flood the log.
    """

    def __init__(self, reason: str, line: str) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"{reason}: {line[:200]!r}")


class Attributes(NamedTuple):
    """The path attributes of an update; interned, so equal sets are the same object."""

    origin: str
    as_path: tuple[int, ...]
    communities: tuple[Community, ...]
    large_communities: tuple[LargeCommunity, ...]
    med: int | None
    local_pref: int | None


@dataclass(frozen=True, slots=True)
class StateChange:
    """A collector session changed state (``connected``, ``up``, ``down``)."""

    peer: str
    peer_as: int
    state: str
    reason: str | None
    time: float


class RouteUpdate(NamedTuple):
    """One BGP UPDATE: announced ((prefix, path id), next hop) and withdrawn (prefix, path id).

    The (prefix, path id) pairs are the RIB's keys as they are, so applying an
    update allocates nothing per route but the route itself.

    A named tuple rather than a dataclass: one is built per line on the hot path.
    """

    peer: str
    time: float
    attributes: Attributes | None
    announced: list[tuple[RouteKey, str]]
    withdrawn: list[RouteKey]


@dataclass(frozen=True, slots=True)
class EndOfRib:
    """The route server finished sending its table for one family."""

    peer: str
    family: str
    time: float


Message = StateChange | RouteUpdate | EndOfRib

# What a broken line makes the parsing code raise; ``decode`` turns each into a MalformedMessage.
# RecursionError: JSON nested deeper than the parser's stack; ArithmeticError: 1e400 -> inf -> int.
_BAD_INPUT = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError)
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
_ORIGINS = frozenset({"igp", "egp", "incomplete"})
# A received UPDATE exactly as ExaBGP 5 prints it, up to the update's first member. Matching the
# header as a whole (JSON strings without escapes, plain numbers) is what lets the fast path
# skip the JSON parser without accepting anything the full parse would refuse.
_FAST_HEADER = re.compile(
    r'\{ "exabgp": "[^"\\]*+", '
    r'"time": (?P<time>-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][-+]?[0-9]++)?), '
    r'"host" : "[^"\\]*+", "pid" : [0-9]++, "ppid" : [0-9]++, "counter": [0-9]++, '
    r'"type": "update", "neighbor": \{ "address": \{ "local": "[^"\\]*+", '
    r'"peer": "(?P<peer>[^"\\]*+)" \}, "asn": \{ "local": [0-9]++, "peer": [0-9]++ \}, '
    r'"router-id": "[^"\\]*+" , "direction": "receive", "message": \{ "update": \{ '
)
# Distinct attribute texts kept for the fast path; a route server has far fewer.
_TEXT_CACHE_LIMIT = 200_000
# Distinct interned attribute sets (and addresses) before the intern tables start afresh.
_INTERN_LIMIT = 2_000_000
_scan = json.JSONDecoder().raw_decode
# What follows the NLRI of an UPDATE: the ends of update, message, neighbor and the line.
_TAIL = " } } } }"


class _Invalid(ValueError):
    """A value of the wrong type or range, named by its field (becomes a MalformedMessage)."""


def _bad(field: str, value: object, reason: str) -> _Invalid:
    """The error for one field; the value is quoted short, it may be anything a line held."""
    return _Invalid(f"{field}: {repr(value)[:80]} {reason}")


def _number(value: object, field: str, maximum: int) -> int:
    """An integer of BGP's range (JSON ``true`` is no number, ``1e400`` no integer)."""
    if type(value) is not int or not 0 <= value <= maximum:
        raise _bad(field, value, f"is not an integer from 0 to {maximum}")
    return value


def _optional_number(value: object, field: str) -> int | None:
    """An optional 32-bit attribute (MED, local preference): absent is ``None``, not 0."""
    return None if value is None else _number(value, field, _U32)


def _text(value: object, field: str) -> str:
    """A JSON string where ExaBGP writes one; a list or object here is not hashable text."""
    if type(value) is not str:
        raise _bad(field, value, "is not a string")
    return value


def _time(value: object) -> float:
    """ExaBGP's timestamp; Python's JSON parser lets ``NaN`` and ``Infinity`` through."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad("time", value, "is not a finite number")
    return float(value)


def _of_type(value: object, kind: type, field: str) -> Any:
    """``value`` if it is a JSON object (``dict``) or array (``list``) as the layout says."""
    if type(value) is not kind:
        raise _bad(field, value, f"is not a JSON {'object' if kind is dict else 'array'}")
    return value


class Decoder:
    """Decodes lines of ExaBGP's JSON stream; holds the intern tables for one collector."""

    def __init__(self) -> None:
        self._paths: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._communities: dict[tuple[Community, ...], tuple[Community, ...]] = {}
        self._large: dict[tuple[LargeCommunity, ...], tuple[LargeCommunity, ...]] = {}
        self._attributes: dict[Attributes, Attributes] = {}
        self._addresses: dict[str, str] = {}
        self._by_text: dict[str, Attributes] = {}

    def decode(self, line: str | bytes) -> Message | None:
        """One line -> a typed message, ``None`` for message types the monitor ignores.

        Raises ``MalformedMessage`` for anything that is not well-formed ExaBGP JSON,
        and nothing else: one bad line must never stop the reader.
        """
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        try:
            header = _FAST_HEADER.match(text)
            if header is not None:
                fast = self._fast_update(text, header)
                if fast is not None:
                    return fast
            data = json.loads(text)
            if type(data) is not dict:
                raise _bad("line", data, "is not a JSON object")
            return self._decode_object(data)
        except _Invalid as exc:
            raise MalformedMessage(str(exc), text) from None
        except _BAD_INPUT as exc:
            raise MalformedMessage(f"{type(exc).__name__} {exc}", text) from None

    def _decode_object(self, data: dict[str, Any]) -> Message | None:
        kind = data["type"]
        # Any: a missing or mistyped part raises TypeError or KeyError, caught in decode().
        neighbor: Any = data.get("neighbor")
        if kind == "update":
            message = neighbor["message"]
            update = message.get("update")
            if update is not None:
                update = _of_type(update, dict, "update")
                announce = update.get("announce", {})
                attributes = self._attributes_of(update["attribute"]) if announce else None
                return self._update(
                    self._address(neighbor["address"]["peer"], "peer"),
                    _time(data["time"]),
                    attributes,
                    announce,
                    update.get("withdraw", {}),
                )
            eor = message.get("eor")
            if eor is not None:
                family = f"{_text(eor['afi'], 'afi')} {_text(eor['safi'], 'safi')}"
                peer = self._address(neighbor["address"]["peer"], "peer")
                return EndOfRib(peer, family, _time(data["time"]))
            raise _bad("message", message, "has neither update nor eor")
        if kind == "state":
            reason = neighbor.get("reason")
            return StateChange(
                peer=self._address(neighbor["address"]["peer"], "peer"),
                peer_as=_number(neighbor["asn"]["peer"], "peer asn", _U32),
                state=_text(neighbor["state"], "state"),
                reason=None if reason is None else _text(reason, "reason"),
                time=_time(data["time"]),
            )
        return None

    def _fast_update(self, text: str, header: re.Match[str]) -> RouteUpdate | None:
        """Decode a received UPDATE without parsing the header or known attribute sets.

        ExaBGP prints a fixed layout; ``_FAST_HEADER`` has read the header and the
        attribute object is looked up by its exact text, so only the NLRI lists go
        through the JSON parser. Anything unexpected returns ``None`` and the line
        takes the full-parse path, which validates it.
        """
        try:
            peer = self._address(header["peer"], "peer")
            time = _time(float(header["time"]))
            pos = header.end()
            attributes = None
            if text.startswith('"attribute": ', pos):
                start = pos + 13
                end = text.find(', "announce": ', start)
                if end < 0:
                    end = text.find(', "withdraw": ', start)
                raw = text[start:end]
                attributes = self._by_text.get(raw)
                if attributes is None:
                    obj, stop = _scan(text, start)
                    if stop != end:
                        return None
                    if len(self._by_text) >= _TEXT_CACHE_LIMIT:
                        self._by_text.clear()
                    attributes = self._by_text[raw] = self._attributes_of(obj)
                pos = end + 2
            announce: dict[str, Any] = {}
            withdraw: dict[str, Any] = {}
            if text.startswith('"announce": ', pos):
                announce, pos = _scan(text, pos + 12)
                if text.startswith(", ", pos):
                    pos += 2
            if text.startswith('"withdraw": ', pos):
                withdraw, pos = _scan(text, pos + 12)
            tail = text[pos:].rstrip()
            if (tail != _TAIL and tail.split() != _TAIL.split()) or (
                announce and attributes is None
            ):
                return None
            # Without announcements the full parse leaves attributes out: so does this.
            return self._update(peer, time, attributes if announce else None, announce, withdraw)
        except _BAD_INPUT:
            return None

    def _update(
        self,
        peer: str,
        time: float,
        attributes: Attributes | None,
        announce: object,
        withdraw: object,
    ) -> RouteUpdate:
        announced: list[tuple[RouteKey, str]] = []
        withdrawn: list[RouteKey] = []
        for by_hop in _of_type(announce, dict, "announce").values():
            # IPv6 with a link-local next hop lists each NLRI under both next hops;
            # the first one is the global address.
            by_hop = _of_type(by_hop, dict, "announce family")
            if len(by_hop) == 1:
                for next_hop, nlris in by_hop.items():
                    hop = self._address(next_hop, "next hop")
                    announced += [(key, hop) for key in map(_nlri, _of_type(nlris, list, "nlri"))]
                continue
            seen: set[RouteKey] = set()
            for next_hop, nlris in by_hop.items():
                hop = self._address(next_hop, "next hop")
                for key in map(_nlri, _of_type(nlris, list, "nlri")):
                    if key not in seen:
                        seen.add(key)
                        announced.append((key, hop))
        for nlris in _of_type(withdraw, dict, "withdraw").values():
            withdrawn += map(_nlri, _of_type(nlris, list, "nlri"))
        return RouteUpdate(peer, time, attributes, announced, withdrawn)

    def _address(self, value: object, field: str) -> str:
        """An interned IP address; checked once per distinct text (peers and next hops are few)."""
        text = _text(value, field)
        known = self._addresses.get(text)
        if known is not None:
            return known
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise _bad(field, text, "is not an IP address") from None
        if len(self._addresses) >= _INTERN_LIMIT:
            self._addresses.clear()
        return self._addresses.setdefault(text, text)

    def _attributes_of(self, value: object) -> Attributes:
        raw = _of_type(value, dict, "attribute")
        if len(self._attributes) >= _INTERN_LIMIT:
            # Interning only saves memory; start afresh rather than grow without bound.
            for table in (self._paths, self._communities, self._large, self._attributes):
                table.clear()
        path: list[int] = []
        for segment in _of_type(raw.get("as-path", {}), dict, "as-path").values():
            values = _of_type(_of_type(segment, dict, "as-path segment")["value"], list, "as-path")
            path += [_number(asn, "as-path", _U32) for asn in values]
        as_path = tuple(path)
        as_path = self._paths.setdefault(as_path, as_path)
        communities = tuple(
            _community(value, 2, _U16, "community")
            for value in _of_type(raw.get("community", []), list, "community")
        )
        communities = self._communities.setdefault(communities, communities)
        large = tuple(
            _community(value, 3, _U32, "large-community")
            for value in _of_type(raw.get("large-community", []), list, "large-community")
        )
        large = self._large.setdefault(large, large)
        origin = raw.get("origin", "incomplete")
        if origin not in _ORIGINS:
            raise _bad("origin", origin, f"is not one of {', '.join(sorted(_ORIGINS))}")
        attributes = Attributes(
            origin,
            as_path,
            communities,
            large,
            _optional_number(raw.get("med"), "med"),
            _optional_number(raw.get("local-preference"), "local-preference"),
        )
        return self._attributes.setdefault(attributes, attributes)


def _community(value: object, parts: int, maximum: int, field: str) -> Any:
    """A community as ExaBGP writes it: a JSON array of ``parts`` integers.

    Typed ``Any``: the caller knows ``parts`` and stores a ``Community`` (2) or a
    ``LargeCommunity`` (3), which the annotation cannot express by value.
    """
    if type(value) is not list or len(value) != parts:
        raise _bad(field, value, f"is not an array of {parts} integers")
    return tuple(_number(part, field, maximum) for part in value)


def _nlri(nlri: object) -> RouteKey:
    """(prefix, path id) of one NLRI; the path id is BIRD's, sent as a dotted quad."""
    if type(nlri) is str:
        return _prefix(nlri), 0
    fields = _of_type(nlri, dict, "nlri")
    prefix = _prefix(fields["nlri"])
    info = fields.get("path-information")
    if not info:
        return prefix, 0
    try:
        return prefix, int.from_bytes(socket.inet_pton(socket.AF_INET, _text(info, "path id")))
    except (OSError, ValueError):
        raise _bad("path-information", info, "is not a dotted quad") from None


def _prefix(value: object) -> str:
    """An IPv4 or IPv6 prefix in the notation ExaBGP writes, checked without ``ipaddress``.

    ``inet_pton`` and a length check cost a fraction of ``ip_network`` on the hot
    path and refuse the same texts.
    """
    text = _text(value, "nlri")
    address, slash, length = text.partition("/")
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    try:
        socket.inet_pton(family, address)
    except (OSError, ValueError):  # ValueError: an embedded NUL
        raise _bad("nlri", text, "is not a prefix") from None
    if not (slash and length.isascii() and length.isdigit() and int(length) <= bits):
        raise _bad("nlri", text, "is not a prefix")
    return text
