"""ExaBGP speakers playing exchange members: what they announce, and a record of what they get.

A :class:`Speaker` is one member router: one ExaBGP process in the member's
namespace with one BGP session per route-server address of a family the member
has an address in. It announces :class:`Route` objects (path, communities and
next hop exactly as given, so tests can send what a misconfigured or hostile
member would). Its API process, :mod:`ixp.lab.agent`, appends ExaBGP's JSON
messages to ``received.jsonl`` in receiving mode (:meth:`Speaker.received`
replays that file into the routes the member holds now, :func:`replay`), and
passes on text-API commands written to the named pipe ``commands``.

:meth:`Speaker.announce` on a running speaker sends the difference (withdraw,
announce) through that pipe, so the sessions stay up, and rewrites the config
so a restarted speaker announces the same.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ixp.lab.netns import LabError, alive, spawn, stop_pids, tail

# ExaBGP's config has no quoting: paths that reach it must be plain tokens.
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9_./:+@=,-]+$")
_COMMUNITY = re.compile(r"^\d+:\d+$")
_LARGE_COMMUNITY = re.compile(r"^\d+:\d+:\d+$")

EXABGP_ENV = {
    # ExaBGP drops root to "nobody" by default; the recorder must write into the lab directory.
    "exabgp_daemon_drop": "false",
    "exabgp_daemon_user": "root",
    # No named-pipe CLI: several speakers run at once and would share its pipes.
    "exabgp_api_cli": "false",
    # Speakers connect out to the route servers and never listen.
    "exabgp_tcp_bind": "",
    "exabgp_log_destination": "stdout",
    # The agent only forwards commands; acknowledgements would land in the received file.
    "exabgp_api_ack": "false",
}


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


def _as_path(attributes: dict[str, Any]) -> tuple[int, ...]:
    """Flatten ExaBGP's AS path (a list, or a dict of numbered segments) into ASNs in order."""
    raw = attributes.get("as-path", [])
    if isinstance(raw, dict):
        path: list[int] = []
        for key in sorted(raw, key=int):
            path.extend(int(asn) for asn in raw[key].get("value", []))
        return tuple(path)
    return tuple(int(asn) for asn in raw)


def _update(rib: dict[tuple[str, str], ReceivedRoute], peer: str, update: dict[str, Any]) -> None:
    attributes = update.get("attribute", {})
    for nlris in update.get("withdraw", {}).values():
        for nlri in nlris:
            rib.pop((peer, str(nlri["nlri"] if isinstance(nlri, dict) else nlri)), None)
    for by_next_hop in update.get("announce", {}).values():
        for next_hop, nlris in by_next_hop.items():
            for nlri in nlris:
                prefix = str(nlri["nlri"] if isinstance(nlri, dict) else nlri)
                rib[(peer, prefix)] = ReceivedRoute(
                    peer=peer,
                    prefix=prefix,
                    next_hop=next_hop,
                    as_path=_as_path(attributes),
                    communities=frozenset(f"{a}:{b}" for a, b in attributes.get("community", [])),
                    large_communities=frozenset(
                        f"{a}:{b}:{c}" for a, b, c in attributes.get("large-community", [])
                    ),
                    med=attributes.get("med"),
                )


def replay(lines: Iterable[str]) -> dict[tuple[str, str], ReceivedRoute]:
    """The routes held after ExaBGP's JSON messages ``lines``, keyed by (peer, prefix).

    A session going down drops that peer's routes, as a router would. Lines
    that are not ExaBGP JSON (a cut-off last line while ExaBGP writes) are skipped.
    """
    rib: dict[tuple[str, str], ReceivedRoute] = {}
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        neighbor = message.get("neighbor", {})
        peer = neighbor.get("address", {}).get("peer")
        if peer is None:
            continue
        if message.get("type") == "state" and neighbor.get("state") != "up":
            for key in [key for key in rib if key[0] == peer]:
                del rib[key]
        elif message.get("type") == "update":
            update = neighbor.get("message", {}).get("update")
            if update:
                _update(rib, peer, update)
    return rib


def _token(value: object, what: str) -> str:
    text = str(value)
    if not _PLAIN_TOKEN.match(text):
        raise LabError(f"{what} {text!r} cannot be written into an ExaBGP config")
    return text


def exabgp_command(exabgp_path: str | None) -> list[str]:
    """The command that runs ExaBGP: the configured binary, or the module in this interpreter."""
    return [exabgp_path] if exabgp_path else [sys.executable, "-m", "exabgp"]


@dataclass
class Speaker:
    """One simulated member router (an ExaBGP process) in ``namespace``."""

    name: str
    asn: int
    namespace: str
    directory: Path
    peers: Sequence[Peer]
    ipv4: str | None = None
    ipv6: str | None = None
    routes: list[Route] = field(default_factory=list)
    receive: bool = True
    exabgp_path: str | None = None
    pid: int | None = None

    @property
    def config_path(self) -> Path:
        """Where the speaker's ExaBGP config is written."""
        return self.directory / "exabgp.conf"

    @property
    def log_path(self) -> Path:
        """ExaBGP's log (stdout and stderr)."""
        return self.directory / "exabgp.log"

    @property
    def received_path(self) -> Path:
        """The JSON messages the agent recorded, one per line."""
        return self.directory / "received.jsonl"

    def address(self, family: int) -> str | None:
        """The speaker's LAN address of ``family``."""
        return self.ipv4 if family == 4 else self.ipv6

    @property
    def router_id(self) -> str:
        """The IPv4 address, or one derived from the ASN for IPv6-only members."""
        if self.ipv4:
            return self.ipv4
        return str(ipaddress.IPv4Address(self.asn & 0xFFFFFFFF or 1))

    @property
    def commands_path(self) -> Path:
        """The named pipe the agent relays text-API commands from."""
        return self.directory / "commands"

    def _route_text(self, route: Route) -> str:
        """``route PREFIX next-hop ... as-path [...] ...``: the same in config and text API."""
        next_hop = route.next_hop or self.address(route.family)
        path = route.as_path or (self.asn,)
        parts = [
            f"route {route.prefix} next-hop {_token(next_hop, 'next hop')}",
            f"as-path [ {' '.join(str(asn) for asn in path)} ]",
        ]
        if route.communities:
            parts.append(f"community [ {' '.join(route.communities)} ]")
        if route.large_communities:
            parts.append(f"large-community [ {' '.join(route.large_communities)} ]")
        if route.med is not None:
            parts.append(f"med {route.med}")
        return " ".join(parts)

    def render(self) -> str:
        """The ExaBGP configuration: the agent process and one neighbor per peer."""
        agent = " ".join(
            _token(part, "agent path")
            for part in (
                sys.executable, "-m", "ixp.lab.agent", self.received_path, self.commands_path
            )
        )  # fmt: skip
        lines = ["process agent {", f"    run {agent};", "    encoder json;", "}", ""]
        for peer in sorted(self.peers, key=lambda p: (p.family, p.address)):
            local = self.address(peer.family)
            if local is None:
                continue
            family = "ipv4" if peer.family == 4 else "ipv6"
            lines += [
                f"neighbor {_token(peer.address, 'peer address')} {{",
                f"    router-id {self.router_id};",
                f"    local-address {_token(local, 'local address')};",
                f"    local-as {self.asn};",
                f"    peer-as {peer.asn};",
                f"    family {{ {family} unicast; }}",
            ]
            receive = " neighbor-changes; receive { parsed; update; }" if self.receive else ""
            lines.append(f"    api {{ processes [ agent ];{receive} }}")
            routes = [r for r in self.routes if r.family == peer.family]
            if routes:
                lines += [
                    "    static {",
                    *(f"        {self._route_text(r)};" for r in routes),
                    "    }",
                ]
            lines += ["}", ""]
        return "\n".join(lines)

    def write_config(self) -> None:
        """Write the rendered config to :attr:`config_path`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render(), encoding="utf-8")

    def running(self) -> bool:
        """True if the ExaBGP process is alive."""
        return self.pid is not None and alive(self.pid)

    def start(self) -> None:
        """Start ExaBGP with the current routes (the recorded history starts afresh)."""
        if self.running():
            return
        self.write_config()
        self.received_path.unlink(missing_ok=True)
        if not self.commands_path.exists():
            os.mkfifo(self.commands_path, 0o600)
        self.pid = spawn(
            [*exabgp_command(self.exabgp_path), "server", str(self.config_path)],
            namespace=self.namespace,
            log=self.log_path,
            env=EXABGP_ENV,
            cwd=self.directory,
        )

    def stop(self) -> None:
        """Stop ExaBGP (its sessions close with a NOTIFICATION); its agent exits with it."""
        if self.pid is not None:
            stop_pids([self.pid])
        self.pid = None

    def announce(self, routes: Sequence[Route]) -> None:
        """Announce exactly ``routes`` from now on (withdrawing the others), without a reset."""
        before = {route.prefix: route for route in self.routes}
        after = {route.prefix: route for route in routes}
        commands = [f"withdraw route {prefix}" for prefix in before if prefix not in after]
        commands += [
            f"announce {self._route_text(route)}"
            for prefix, route in after.items()
            if before.get(prefix) != route
        ]
        self.routes = list(routes)
        self.write_config()
        if commands and self.running():
            self._send(commands)

    def _send(self, commands: Sequence[str], timeout: float = 5.0) -> None:
        """Write text-API commands into the agent's pipe (waiting briefly for it to listen)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.commands_path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:  # ENXIO: the agent is between two reads of the pipe
                if time.monotonic() > deadline:
                    raise LabError(f"speaker {self.name}: agent not listening ({exc})") from exc
                time.sleep(0.02)
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
            os.write(fd, "".join(f"{command}\n" for command in commands).encode())
        finally:
            os.close(fd)

    def received(self) -> dict[tuple[str, str], ReceivedRoute]:
        """What the member holds now, keyed by (route-server address, prefix)."""
        if not self.received_path.exists():
            return {}
        with self.received_path.open(encoding="utf-8", errors="replace") as lines:
            return replay(lines)

    def failure(self) -> str:
        """The end of ExaBGP's log, for error messages."""
        return tail(self.log_path)
