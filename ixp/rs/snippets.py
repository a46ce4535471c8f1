"""Member router snippets: the member side of its sessions with every route server.

Part of the onboarding pack (``ixp member snippet ASN --platform ...``). The
snippets set up the sessions and point them at import/export policies the
member names and fills in itself; the export policy starts by announcing
nothing, so pasting a snippet can never leak a full table to the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.members import get_member
from ixp.models import Exchange, Member
from ixp.rs.render import environment

PLATFORMS = ("mikrotik", "cisco", "junos", "bird", "frr")


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
class SnippetContext:
    """What a snippet is rendered from."""

    exchange: str
    asn: int
    name: str
    as_set: str | None
    peers: tuple[SnippetPeer, ...]

    def family_peers(self, family: int) -> tuple[SnippetPeer, ...]:
        """The sessions of one address family."""
        return tuple(p for p in self.peers if p.family == family)


def snippet_context(member: Member) -> SnippetContext:
    """The member's sessions with each route server of its exchange."""
    peers = []
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
    return SnippetContext(
        exchange=member.exchange.name,
        asn=member.asn,
        name=member.display_name,
        as_set=member.as_set_v4 or member.as_set_v6,
        peers=tuple(sorted(peers, key=lambda p: (p.family, p.rs_name, p.local_address))),
    )


def render_snippet(context: SnippetContext, platform: str) -> str:
    """The snippet text for one platform."""
    if platform not in PLATFORMS:
        raise ValidationError("platform", platform, f"must be one of {', '.join(PLATFORMS)}")
    return environment().get_template(f"snippets/{platform}.j2").render(ctx=context)


def member_snippet(
    session: Session, asn: int | str, platform: str, exchange: Exchange | None = None
) -> str:
    """``ixp member snippet``: the member's router configuration for the route servers."""
    return render_snippet(snippet_context(get_member(session, asn, exchange)), platform)
