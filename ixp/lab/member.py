"""A member router in the lab, of any kind, and the routes it announces and holds.

:class:`MemberRouter` is what the lab needs from every member, whatever runs it:
an ExaBGP speaker (:mod:`ixp.lab.exabgp`, announcing exactly what a test asks,
however wrong) or a real router running the member's ``ixp member snippet``
(:mod:`ixp.lab.routers`, FRR or BIRD). Each is one process in the member's
namespace with a session per route-server address of a family it has an address in.
"""

from __future__ import annotations

import abc
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ixp.exabgp import process
from ixp.lab.netns import LabError, alive, stop_pids

_COMMUNITY = re.compile(r"^\d+:\d+$")
_LARGE_COMMUNITY = re.compile(r"^\d+:\d+:\d+$")


@dataclass(frozen=True)
class Route:
    """One announcement; an empty ``as_path`` means the own ASN, no ``next_hop`` the own address."""

    prefix: str
    as_path: tuple[int, ...] = ()
    next_hop: str | None = None
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()
    med: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", str(ipaddress.ip_network(self.prefix, strict=True)))
        for community in self.communities:
            if not _COMMUNITY.match(community):
                raise LabError(f"community {community!r} of {self.prefix} is not ASN:value")
        for community in self.large_communities:
            if not _LARGE_COMMUNITY.match(community):
                raise LabError(f"large community {community!r} of {self.prefix} is not a:b:c")

    @property
    def family(self) -> int:
        """4 or 6."""
        return ipaddress.ip_network(self.prefix).version

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (the lab state file keeps routes this way)."""
        return {
            "prefix": self.prefix,
            "as_path": list(self.as_path),
            "next_hop": self.next_hop,
            "communities": list(self.communities),
            "large_communities": list(self.large_communities),
            "med": self.med,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Route:
        """The inverse of :meth:`to_dict`."""
        return cls(
            prefix=data["prefix"],
            as_path=tuple(data.get("as_path") or ()),
            next_hop=data.get("next_hop"),
            communities=tuple(data.get("communities") or ()),
            large_communities=tuple(data.get("large_communities") or ()),
            med=data.get("med"),
        )


@dataclass(frozen=True)
class Peer:
    """A route-server address the speaker opens a session to."""

    address: str
    asn: int

    @property
    def family(self) -> int:
        """4 or 6."""
        return ipaddress.ip_address(self.address).version


@dataclass(frozen=True)
class ReceivedRoute:
    """A route as the member got it from a route server: what a receiving router would install."""

    peer: str
    prefix: str
    next_hop: str
    as_path: tuple[int, ...]
    communities: frozenset[str] = frozenset()
    large_communities: frozenset[str] = frozenset()
    med: int | None = None


@dataclass
class MemberRouter(abc.ABC):
    """One member router process in ``namespace``; subclasses say how it runs and what it holds.

    ``routes`` are what it announces; ``pid`` is its process while it runs (kept
    in the lab's state file, so another process can stop it).
    """

    name: str
    asn: int
    namespace: str
    directory: Path
    peers: Sequence[Peer]
    ipv4: str | None = None
    ipv6: str | None = None
    routes: list[Route] = field(default_factory=list)
    receive: bool = True
    pid: int | None = None

    @property
    @abc.abstractmethod
    def log_path(self) -> Path:
        """The router's log (stdout and stderr)."""

    def address(self, family: int) -> str | None:
        """The router's LAN address of ``family``."""
        return self.ipv4 if family == 4 else self.ipv6

    @property
    def router_id(self) -> str:
        """The IPv4 address, or one derived from the ASN for IPv6-only members."""
        if self.ipv4:
            return self.ipv4
        return str(ipaddress.IPv4Address(self.asn & 0xFFFFFFFF or 1))

    def sessions(self) -> list[Peer]:
        """The route-server addresses it has a session with: those of its own families."""
        return [peer for peer in self.peers if self.address(peer.family) is not None]

    def running(self) -> bool:
        """True if the router's process is alive."""
        return self.pid is not None and alive(self.pid)

    @abc.abstractmethod
    def start(self) -> None:
        """Start the router on its current configuration."""

    def stop(self) -> None:
        """Stop the router (its sessions close with a NOTIFICATION)."""
        if self.pid is not None:
            stop_pids([self.pid])
        self.pid = None

    @abc.abstractmethod
    def sent(self, peer: Peer) -> int:
        """How many routes it sends to ``peer`` now."""

    @abc.abstractmethod
    def received(self) -> dict[tuple[str, str], ReceivedRoute]:
        """What the member holds now, keyed by (route-server address, prefix)."""

    def failure(self) -> str:
        """The end of the router's log, for error messages."""
        return process.tail(self.log_path)
