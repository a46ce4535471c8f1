"""Members played by small BIRD speakers, for the benchmarks that need live members.

One BIRD per member (BIRD 2.0.12 runs at most one session per neighbor address
at a time), all of them in one namespace holding every member's LAN address,
each announcing its routes from static protocols through
:func:`ixp.push.speakers.speaker_config`, the impact preview's own speakers.
BIRD rather than ExaBGP because it starts and sends routes many times faster,
so the route server under test, not the speakers, is what a figure measures.
Used by ``bench/push.py`` and ``bench/bird_convergence.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from synthetic_exchange import LAN4, LAN6, ROUTE_SERVERS, RS_ASN

from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.push.speakers import OfferedRoute, Speaker, SpeakerSession, speaker_config
from ixp.settings import Settings

START_WORKERS = 4
NAMESPACE = "members"


@dataclass(frozen=True)
class Member:
    """A live member: its addresses and what its speaker announces, by family."""

    asn: int
    ipv4: str
    ipv6: str | None
    routes: dict[int, list[tuple[str, tuple[int, ...]]]]

    @property
    def count(self) -> int:
        """Routes it sends each route server."""
        return sum(len(routes) for routes in self.routes.values())


def speaker(
    member: Member, route_servers: Sequence[tuple[str, str, str]] = ROUTE_SERVERS
) -> Speaker:
    """The member's BIRD: one session per route-server address of its families."""
    sessions = []
    for family in sorted(member.routes):
        local = member.ipv4 if family == 4 else member.ipv6
        assert local is not None
        routes = tuple(
            OfferedRoute(prefix, path, False, None, (), (), True, ())
            for prefix, path in member.routes[family]
        )
        for _name, rs4, rs6 in route_servers:
            sessions.append(SpeakerSession(local, rs4 if family == 4 else rs6, family, routes))
    return Speaker(f"m{member.asn}", member.asn, tuple(sessions))


def start_speakers(
    lab: Lab,
    settings: Settings,
    members: Sequence[Member],
    route_servers: Sequence[tuple[str, str, str]] = ROUTE_SERVERS,
) -> None:
    """Every member's BIRD in one namespace holding all their addresses, speaking to
    ``route_servers`` (name, IPv4, IPv6); ``lab.down()`` stops them with the namespace."""
    node = lab.add_node(NAMESPACE)
    directory = lab.directory / NAMESPACE
    directory.mkdir()
    lines = [
        f"addr add {address}/{prefix.rpartition('/')[2]} dev {netns.NODE_INTERFACE}{extra}"
        for m in members
        for address, prefix, extra in ((m.ipv4, LAN4, ""), (m.ipv6, LAN6, " nodad"))
        if address
    ]
    batch = directory / "addresses.batch"
    batch.write_text("\n".join(lines) + "\n", encoding="ascii")
    netns.run(["ip", "-n", node.namespace, "-batch", str(batch)], timeout=300)

    def start(member: Member) -> None:
        config = directory / f"m{member.asn}.conf"
        config.write_text(speaker_config(speaker(member, route_servers), RS_ASN), encoding="ascii")
        netns.run(
            [settings.bird_path, "-c", str(config), "-s", str(directory / f"m{member.asn}.ctl"),
             "-P", str(directory / f"m{member.asn}.pid")],
            namespace=node.namespace,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=START_WORKERS) as pool:
        list(pool.map(start, members))
