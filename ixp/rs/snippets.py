"""Member router snippets: the member side of its sessions with every route server.

Part of the onboarding pack (``ixp member snippet ASN --platform ...``). A
snippet sets up the sessions and two policies: import accepts what the route
servers send (they filtered it already), export lets out only the prefixes
registered for the member (its AS-SET's route objects, as the route servers'
own filters accept them), so pasting a snippet can never leak a full table to
the exchange. Originating the prefixes (``network`` statements, static routes,
redistribution) stays the member's own configuration. A member without
registry data in use gets an export policy that announces nothing, and says so.

The BIRD and FRR snippets are run for real in the lab (tests/lab/test_live_snippets.py);
the MikroTik, Cisco and Junos ones are held to golden files, each template naming
the vendor documentation it follows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.irr.service import irr_for_member
from ixp.irr.types import PrefixEntry
from ixp.members import get_member
from ixp.models import Exchange, Member
from ixp.rs.render import environment

PLATFORMS = ("mikrotik", "cisco", "junos", "bird", "frr")

# What the route servers do when a member sends more prefixes than its limit (BIRD's actions).
_LIMIT_ACTIONS = {
    "restart": "the session is reset and comes back after a while",
    "disable": "the session is shut down until the exchange enables it again",
    "block": "further prefixes are dropped",
    "warn": "the exchange is warned",
}


@dataclass(frozen=True)
class SnippetPeer:
    """One session as the member's router sees it."""

    rs_name: str
    rs_asn: int
    family: int
    rs_address: str
    local_address: str

    @property
    def symbol(self) -> str:
        """A name usable as an identifier on every platform (``rs1_v4``)."""
        return f"{self.rs_name.replace('-', '_')}_v{self.family}"


@dataclass(frozen=True)
class SnippetPrefix:
    """A registered prefix the export policy lets out, with more-specifics up to ``max_length``."""

    prefix: str
    family: int
    length: int
    max_length: int


@dataclass(frozen=True)
class SnippetContext:
    """What a snippet is rendered from."""

    exchange: str
    asn: int
    name: str
    as_set: str | None
    peers: tuple[SnippetPeer, ...]
    prefixes: tuple[SnippetPrefix, ...] = ()
    max_prefix4: int = 0
    max_prefix6: int = 0
    max_prefix_action: str = "restart"

    def family_peers(self, family: int) -> tuple[SnippetPeer, ...]:
        """The sessions of one address family."""
        return tuple(p for p in self.peers if p.family == family)

    def family_prefixes(self, family: int) -> tuple[SnippetPrefix, ...]:
        """The registered prefixes of one address family."""
        return tuple(p for p in self.prefixes if p.family == family)

    @property
    def families(self) -> tuple[int, ...]:
        """The address families the member has sessions in, ascending."""
        return tuple(sorted({p.family for p in self.peers}))

    @property
    def limit_action(self) -> str:
        """What the route servers do past the max-prefix limit, in words."""
        return _LIMIT_ACTIONS.get(self.max_prefix_action, self.max_prefix_action)


def _prefixes(asn: int, family: int, entries: Sequence[PrefixEntry]) -> list[SnippetPrefix]:
    """Registry prefixes checked to be prefixes: they reach the snippet as bare tokens."""
    prefixes = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.prefix)
        except ValueError:
            network = None
        if network is None or network.version != family:
            raise ValidationError(
                f"irr prefix of AS{asn}", entry.prefix, f"is not an IPv{family} prefix"
            )
        longest = min(max(entry.max_length, network.prefixlen), network.max_prefixlen)
        prefixes.append(SnippetPrefix(str(network), family, network.prefixlen, longest))
    return prefixes


def snippet_context(member: Member, registered: Sequence[PrefixEntry] = ()) -> SnippetContext:
    """The member's sessions with each route server of its exchange, and what it may announce."""
    peers: list[SnippetPeer] = []
    for link in sorted(member.rs_sessions, key=lambda s: s.route_server.name):
        rs = link.route_server
        for family, enabled, rs_address in (
            (4, link.ipv4_enabled, rs.ipv4),
            (6, link.ipv6_enabled, rs.ipv6),
        ):
            if not enabled or rs_address is None:
                continue
            peers.extend(
                SnippetPeer(rs.name, rs.asn, family, rs_address, a.address)
                for a in member.addresses
                if a.family == family and a.lan_id == rs.lan_id
            )
    prefixes = [
        prefix
        for family in (4, 6)
        for prefix in _prefixes(
            member.asn, family, [e for e in registered if (":" in e.prefix) == (family == 6)]
        )
    ]
    return SnippetContext(
        exchange=member.exchange.name,
        asn=member.asn,
        name=member.display_name,
        as_set=member.as_set_v4 or member.as_set_v6,
        peers=tuple(sorted(peers, key=lambda p: (p.family, p.rs_name, p.local_address))),
        prefixes=tuple(prefixes),
        max_prefix4=member.max_prefix_v4,
        max_prefix6=member.max_prefix_v6,
        max_prefix_action=member.max_prefix_action.value,
    )


def render_snippet(context: SnippetContext, platform: str) -> str:
    """The snippet text for one platform."""
    if platform not in PLATFORMS:
        raise ValidationError("platform", platform, f"must be one of {', '.join(PLATFORMS)}")
    return environment().get_template(f"snippets/{platform}.j2").render(ctx=context)


def snippet_of(session: Session, member: Member, platform: str) -> str:
    """The snippet of ``member`` for ``platform``, its export policy from the registry data in use.

    That is the data the route servers use: the last good data while an update
    waits for approval, none before the first.
    """
    registry = irr_for_member(session, member)
    registered = (*registry.v4, *registry.v6) if registry is not None else ()
    return render_snippet(snippet_context(member, registered), platform)


def member_snippet(
    session: Session, asn: int | str, platform: str, exchange: Exchange | None = None
) -> str:
    """``ixp member snippet``: the member's router configuration for the route servers."""
    return snippet_of(session, get_member(session, asn, exchange), platform)
