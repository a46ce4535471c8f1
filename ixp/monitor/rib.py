"""The in-memory RIB: every route a route server exports to the monitor's collector.

One ``SessionRib`` per collector session (path ids are per session), grouped
in a ``RouteServerRib`` per route server. A stored route is one dictionary
entry: the key (prefix, path id) straight from the decoder and a 4-tuple
(next hop, interned ``Attributes``, first seen, last change) -- no per-route
object beyond those, which is what makes a million routes cheap to hold and
fast to apply. Readers get ``Route`` views built on demand. The RIB is never
persisted: after a restart it is rebuilt from a fresh BGP session, which is
what BGP gives for free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ixp.exabgp.decode import Attributes, EndOfRib, Message, RouteKey, RouteUpdate, StateChange

# What the RIB stores per route: (next hop, attributes, first seen, last change).
Stored = tuple[str, Attributes, float, float]


class Route(NamedTuple):
    """One path to a prefix, as received from the route server (a read-only view)."""

    prefix: str
    path_id: int
    next_hop: str
    attributes: Attributes
    first_seen: float
    last_change: float

    @classmethod
    def of(cls, key: RouteKey, stored: Stored) -> Route:
        """The view of one stored entry."""
        return cls(key[0], key[1], *stored)

    @property
    def origin_asn(self) -> int | None:
        """The last AS of the path (the network that originated the prefix)."""
        path = self.attributes.as_path
        return path[-1] if path else None

    @property
    def peer_asn(self) -> int | None:
        """The member that announced it: first AS of the path (the route server is transparent)."""
        path = self.attributes.as_path
        return path[0] if path else None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view for the CLI and API."""
        a = self.attributes
        return {
            "prefix": self.prefix,
            "path_id": self.path_id,
            "next_hop": self.next_hop,
            "as_path": list(a.as_path),
            "origin": a.origin,
            "communities": [list(c) for c in a.communities],
            "large_communities": [list(c) for c in a.large_communities],
            "med": a.med,
            "local_pref": a.local_pref,
            "first_seen": self.first_seen,
            "last_change": self.last_change,
        }


class SessionRib:
    """The routes of one collector session, keyed by (prefix, path id)."""

    __slots__ = ("end_of_rib", "peer", "routes", "up")

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.routes: dict[RouteKey, Stored] = {}
        self.up = False
        self.end_of_rib: set[str] = set()

    def apply(self, update: RouteUpdate) -> None:
        """Apply announcements (new or changed paths) and withdrawals."""
        routes = self.routes
        for key in update.withdrawn:
            routes.pop(key, None)
        attributes = update.attributes
        if attributes is None:
            return
        now = update.time
        for key, next_hop in update.announced:
            old = routes.get(key)
            if old is None:
                routes[key] = (next_hop, attributes, now, now)
            elif old[1] != attributes or old[0] != next_hop:
                routes[key] = (next_hop, attributes, old[2], now)

    def clear(self) -> None:
        """Forget everything (session went down; BGP resends the table when it comes back)."""
        self.routes.clear()
        self.end_of_rib.clear()


class RouteServerRib:
    """All collector sessions of one route server."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sessions: dict[str, SessionRib] = {}

    def session(self, peer: str) -> SessionRib:
        """The session RIB for a collector neighbor address, created on first use."""
        rib = self.sessions.get(peer)
        if rib is None:
            rib = self.sessions[peer] = SessionRib(peer)
        return rib

    def apply(self, message: Message) -> None:
        """Feed one decoded ExaBGP message."""
        if type(message) is RouteUpdate:
            rib = self.sessions.get(message.peer) or self.session(message.peer)
            rib.apply(message)
        elif type(message) is StateChange:
            rib = self.session(message.peer)
            if message.state == "up":
                rib.clear()
                rib.up = True
            elif message.state == "down":
                rib.clear()
                rib.up = False
        elif type(message) is EndOfRib:
            self.session(message.peer).end_of_rib.add(message.family)

    def clear(self) -> None:
        """Forget every session (the ExaBGP child restarted)."""
        self.sessions.clear()

    @property
    def up(self) -> bool:
        """True if at least one collector session is established."""
        return any(rib.up for rib in self.sessions.values())

    def established(self, peers: Iterable[str]) -> bool:
        """True when the collector's session with every address in ``peers`` is up."""
        return all(peer in self.sessions and self.sessions[peer].up for peer in peers)

    def loaded(self, peers: Iterable[str]) -> bool:
        """True when every session with ``peers`` is up and has sent its End-of-RIB.

        BIRD sends End-of-RIB after the initial table only to peers that speak
        graceful restart; callers without it fall back to a route count that
        holds still (see ``Monitor.wait_for_ribs``).
        """
        ribs = [self.sessions.get(peer) for peer in peers]
        return all(rib is not None and rib.up and rib.end_of_rib for rib in ribs)

    def routes(self) -> Iterator[Route]:
        """Every distinct route; the same BIRD path seen on two sessions is listed once."""
        seen: set[RouteKey] = set()
        for rib in self.sessions.values():
            for key, stored in rib.routes.items():
                if key not in seen:
                    seen.add(key)
                    yield Route.of(key, stored)

    def __len__(self) -> int:
        return sum(len(rib.routes) for rib in self.sessions.values())

    def routes_of(self, asn: int) -> list[Route]:
        """The routes a member announced, sorted by prefix."""
        return sorted(
            (route for route in self.routes() if route.peer_asn == asn),
            key=lambda route: (route.prefix, route.path_id),
        )

    def count_by_member(self) -> Counter[int]:
        """Accepted routes per member ASN."""
        counts: Counter[int] = Counter()
        for route in self.routes():
            asn = route.peer_asn
            if asn is not None:
                counts[asn] += 1
        return counts
