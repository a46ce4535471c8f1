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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

Community = tuple[int, int]
RouteKey = tuple[str, int]  # (prefix, ADD-PATH path id; 0 without ADD-PATH)
LargeCommunity = tuple[int, int, int]


class MalformedMessage(ValueError):
    """A line from ExaBGP that is not the JSON the monitor understands; it is logged and skipped."""

    def __init__(self, reason: str, line: str) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"{reason}: {line[:300]!r}")


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

_UPDATE_MARK = '"direction": "receive", "message": { "update": { '
# Distinct attribute texts kept for the fast path; a route server has far fewer.
_TEXT_CACHE_LIMIT = 200_000
# Distinct interned attribute sets before the intern tables start afresh.
_INTERN_LIMIT = 2_000_000
_scan = json.JSONDecoder().raw_decode
# What follows the NLRI of an UPDATE: the ends of update, message, neighbor and the line.
_TAIL = " } } } }"


class Decoder:
    """Decodes lines of ExaBGP's JSON stream; holds the intern tables for one collector."""

    def __init__(self) -> None:
        self._paths: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._communities: dict[tuple[Community, ...], tuple[Community, ...]] = {}
        self._large: dict[tuple[LargeCommunity, ...], tuple[LargeCommunity, ...]] = {}
        self._attributes: dict[Attributes, Attributes] = {}
        self._strings: dict[str, str] = {}
        self._by_text: dict[str, Attributes] = {}

    def decode(self, line: str | bytes) -> Message | None:
        """One line -> a typed message, ``None`` for message types the monitor ignores.

        Raises ``MalformedMessage`` for anything that is not well-formed ExaBGP JSON.
        """
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        mark = text.find(_UPDATE_MARK)
        if mark > 0:
            fast = self._fast_update(text, mark)
            if fast is not None:
                return fast
        try:
            return self._decode_object(json.loads(text), text)
        except MalformedMessage:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise MalformedMessage(f"{type(exc).__name__} {exc}", text) from None

    def _decode_object(self, data: dict[str, Any], text: str) -> Message | None:
        kind = data["type"]
        neighbor = data.get("neighbor")
        if kind == "update":
            message = neighbor["message"]
            update = message.get("update")
            if update is not None:
                announce = update.get("announce", {})
                attributes = self._attributes_of(update["attribute"]) if announce else None
                return self._update(
                    neighbor["address"]["peer"],
                    data["time"],
                    attributes,
                    announce,
                    update.get("withdraw", {}),
                )
            eor = message.get("eor")
            if eor is not None:
                family = f"{eor['afi']} {eor['safi']}"
                return EndOfRib(neighbor["address"]["peer"], family, data["time"])
            raise MalformedMessage("update without update or eor", text)
        if kind == "state":
            return StateChange(
                peer=neighbor["address"]["peer"],
                peer_as=int(neighbor["asn"]["peer"]),
                state=neighbor["state"],
                reason=neighbor.get("reason"),
                time=data["time"],
            )
        return None

    def _fast_update(self, text: str, mark: int) -> RouteUpdate | None:
        """Decode a received UPDATE without parsing the header or known attribute sets.

        ExaBGP prints a fixed layout; the header (host, pid, counter, neighbor) is
        read by position and the attribute object is looked up by its exact text,
        so only the NLRI lists go through the JSON parser. Anything unexpected
        returns ``None`` and the line takes the full-parse path, which validates it.
        """
        try:
            start = text.index('"peer": "', text.index('"neighbor": ')) + 9
            peer = self._intern_string(text[start : text.index('"', start)])
            at = text.index('"time": ') + 8
            time = float(text[at : text.index(",", at)])
            pos = mark + len(_UPDATE_MARK)
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
            return self._update(peer, time, attributes, announce, withdraw)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def _update(
        self,
        peer: str,
        time: float,
        attributes: Attributes | None,
        announce: dict[str, Any],
        withdraw: dict[str, Any],
    ) -> RouteUpdate:
        announced: list[tuple[RouteKey, str]] = []
        withdrawn: list[RouteKey] = []
        intern = self._intern_string
        for by_hop in announce.values():
            # IPv6 with a link-local next hop lists each NLRI under both next hops;
            # the first one is the global address.
            if len(by_hop) == 1:
                for next_hop, nlris in by_hop.items():
                    hop = intern(next_hop)
                    announced += [(key, hop) for key in map(_nlri, nlris)]
                continue
            seen: set[RouteKey] = set()
            for next_hop, nlris in by_hop.items():
                hop = intern(next_hop)
                for key in map(_nlri, nlris):
                    if key not in seen:
                        seen.add(key)
                        announced.append((key, hop))
        for nlris in withdraw.values():
            withdrawn += map(_nlri, nlris)
        return RouteUpdate(peer, time, attributes, announced, withdrawn)

    def _intern_string(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def _attributes_of(self, raw: dict[str, Any]) -> Attributes:
        if len(self._attributes) >= _INTERN_LIMIT:
            # Interning only saves memory; start afresh rather than grow without bound.
            for table in (self._paths, self._communities, self._large, self._attributes):
                table.clear()
        path: list[int] = []
        for segment in raw.get("as-path", {}).values():
            path.extend(segment["value"])
        as_path = tuple(path)
        as_path = self._paths.setdefault(as_path, as_path)
        communities: tuple[Community, ...] = tuple(
            (int(a), int(b)) for a, b in raw.get("community", ())
        )
        communities = self._communities.setdefault(communities, communities)
        large: tuple[LargeCommunity, ...] = tuple(
            (int(a), int(b), int(c)) for a, b, c in raw.get("large-community", ())
        )
        large = self._large.setdefault(large, large)
        attributes = Attributes(
            raw.get("origin", "incomplete"),
            as_path,
            communities,
            large,
            raw.get("med"),
            raw.get("local-preference"),
        )
        return self._attributes.setdefault(attributes, attributes)


def _nlri(nlri: Any) -> RouteKey:
    """(prefix, path id) of one NLRI; the path id is BIRD's, sent as a dotted quad."""
    if type(nlri) is str:
        return nlri, 0
    prefix = nlri["nlri"]
    if type(prefix) is not str:
        raise TypeError(f"nlri {prefix!r} is not a prefix")
    info = nlri.get("path-information")
    if not info:
        return prefix, 0
    a, b, c, d = info.split(".")
    return prefix, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
