"""The frozen values a route-server configuration is rendered from (a leaf module).

``context.py`` fills these from the database, the registry data and the ROAs;
``render.py`` turns them into text and ``explain.py`` evaluates the same policy
on them. Nothing here touches the database, so tests can build a context by
hand and the renderer stays a pure function of its input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class RegistryState(enum.StrEnum):
    """Which registry data a member's filter is built from.

    ``missing`` and ``first_held`` configure the member's sessions with empty
    prefix and origin sets: it receives every other member's routes, and every
    route it sends is kept as filtered with the reasons, so it (and the looking
    glass) can see why, instead of a member left out with no session at all.
    """

    current = "current"
    held = "held"
    missing = "missing"
    first_held = "first-held"

    @property
    def closed(self) -> bool:
        """True when no registry data is in use and every route is filtered."""
        return self in (RegistryState.missing, RegistryState.first_held)

    def describe(self) -> str:
        """The state as the build summary and the configuration's comments say it."""
        return _REGISTRY_WORDS[self]


_REGISTRY_WORDS = {
    RegistryState.current: "current",
    RegistryState.held: "update held for approval, last good data in use",
    RegistryState.missing: "no registry data: all routes filtered",
    RegistryState.first_held: "first registry data held for approval: all routes filtered",
}


class PrefixRule(NamedTuple):
    """A prefix a member may announce (``length`` is its own), and the longest
    more-specific of it allowed. A NamedTuple, as is ``RoaEntry``: a large exchange
    has a million of them, and tuples are created several times faster than
    frozen dataclasses while being just as immutable."""

    prefix: str
    length: int
    max_length: int


class RoaEntry(NamedTuple):
    """One validated ROA payload: prefix, maximum length, origin ASN."""

    prefix: str
    max_length: int
    asn: int


class RoaLike(Protocol):
    """Anything immutable with a ROA's three fields: the RPKI layer's ``Roa`` is used as is
    (hundreds of thousands of them; copying each into a ``RoaEntry`` costs a second)."""

    @property
    def prefix(self) -> str: ...

    @property
    def max_length(self) -> int: ...

    @property
    def asn(self) -> int: ...


@dataclass(frozen=True)
class Session:
    """One BGP session between a member address and the route server."""

    name: str
    family: int
    neighbor: str
    local: str
    max_prefix: int
    receive_limit: int


@dataclass(frozen=True)
class FamilyRules:
    """A member's own filtering rules (``ixp.rsrules``) of one address family, compiled.

    ``tags`` are the large communities ``(RS_ASN, namespace, peer)`` the route server
    adds to the member's routes on import, exactly the announcement-control communities
    the member could have sent itself (do not announce, announce only, prepend);
    ``refused`` are the peers whose routes are not sent to the member, and
    ``refuse_all`` means none are. Both sorted, without duplicates.
    """

    tags: tuple[tuple[int, int], ...] = ()
    refused: tuple[int, ...] = ()
    refuse_all: bool = False


@dataclass(frozen=True)
class MemberRules:
    """A member's filtering rules per address family (none by default)."""

    v4: FamilyRules = FamilyRules()
    v6: FamilyRules = FamilyRules()

    def family(self, family: int) -> FamilyRules:
        """The rules of one address family."""
        return self.v4 if family == 4 else self.v6


@dataclass(frozen=True)
class DroppedRule:
    """A member's filtering rule left out of a build, and why (its peer is not configured)."""

    asn: int
    rule: str
    reason: str


@dataclass(frozen=True)
class MemberPolicy:
    """Everything the route server needs to filter one member's routes."""

    asn: int
    display_name: str
    legal_name: str
    as_set: str
    origin_asns: tuple[int, ...]
    prefixes_v4: tuple[PrefixRule, ...]
    prefixes_v6: tuple[PrefixRule, ...]
    max_prefix_action: str
    announcement_control: bool
    blackholing: bool
    third_party_next_hop: bool
    registry: RegistryState
    sessions: tuple[Session, ...]
    rules: MemberRules = MemberRules()

    def prefixes(self, family: int) -> tuple[PrefixRule, ...]:
        """The member's registered prefixes of one address family."""
        return self.prefixes_v4 if family == 4 else self.prefixes_v6

    def families(self) -> tuple[int, ...]:
        """The address families the member has sessions in, ascending."""
        return tuple(sorted({s.family for s in self.sessions}))


@dataclass(frozen=True)
class Excluded:
    """A member left out of the configuration, and why."""

    asn: int
    display_name: str
    reason: str


@dataclass(frozen=True)
class Limits:
    """The exchange-wide, settable part of the policy."""

    min_length_v4: int
    max_length_v4: int
    min_length_v6: int
    max_length_v6: int
    max_as_path_length: int
    transit_free_asns: tuple[int, ...]
    receive_factor: int

    def length_range(self, family: int) -> tuple[int, int]:
        """``(shortest, longest)`` prefix length accepted for ordinary routes of a family."""
        if family == 4:
            return self.min_length_v4, self.max_length_v4
        return self.min_length_v6, self.max_length_v6


# Collector sessions are named with this prefix; the monitor skips them as member sessions.
COLLECTOR_PROTOCOL_PREFIX = "rs_collector"


@dataclass(frozen=True)
class Collector:
    """The monitor's BGP peer: receives every accepted route, announces nothing."""

    asn: int
    ipv4: str | None
    ipv6: str | None

    @staticmethod
    def protocol(family: int) -> str:
        """The BIRD protocol name of the collector session in a family."""
        return f"{COLLECTOR_PROTOCOL_PREFIX}_v{family}"

    def address(self, family: int) -> str | None:
        """The collector's address in a family (None: no collector session in it)."""
        return self.ipv4 if family == 4 else self.ipv6


@dataclass(frozen=True)
class RpkiSource:
    """Where ROAs come from: an RTR validator (``rtr_host`` set) or static ``roas``; and
    whether members receive each accepted route's RPKI state as a large community
    (``tag_routes``; the route server always keeps it in ``rs_rpki``, see ``codes``)."""

    roas: tuple[RoaLike, ...]
    rtr_host: str | None
    rtr_port: int
    tag_routes: bool = False


@dataclass(frozen=True)
class RsContext:
    """One route server's complete configuration input."""

    exchange: str
    rs_name: str
    rs_asn: int
    router_id: str
    ipv4: str | None
    ipv6: str | None
    lan_v4: str | None
    lan_v6: str | None
    blackhole_v4: str | None
    blackhole_v6: str | None
    limits: Limits
    rpki: RpkiSource
    collector: Collector | None
    members: tuple[MemberPolicy, ...]
    excluded: tuple[Excluded, ...]
    dropped_rules: tuple[DroppedRule, ...] = ()

    def local_address(self, family: int) -> str | None:
        """The route server's own address in a family (None: no sessions in it)."""
        return self.ipv4 if family == 4 else self.ipv6

    def lan(self, family: int) -> str | None:
        """The peering LAN subnet of a family."""
        return self.lan_v4 if family == 4 else self.lan_v6

    def blackhole(self, family: int) -> str | None:
        """The exchange's blackhole next hop of a family (None: blackholing impossible)."""
        return self.blackhole_v4 if family == 4 else self.blackhole_v6

    def member(self, asn: int) -> MemberPolicy | None:
        """The configured member with that ASN, if any."""
        return next((m for m in self.members if m.asn == asn), None)
