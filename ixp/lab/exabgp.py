"""ExaBGP speakers playing exchange members: what they announce, and a record of what they get.

A :class:`Speaker` is one member router: one ExaBGP process in the member's
namespace with one BGP session per route-server address of a family the member
has an address in. It announces :class:`Route` objects (path, communities and
next hop exactly as given, so tests can send what a misconfigured or hostile
member would). Its API process, :mod:`ixp.exabgp.relay`, appends ExaBGP's
JSON messages to ``received.jsonl`` in receiving mode (:meth:`Speaker.received`
replays that file into the routes the member holds now, :func:`replay`), and
passes on text-API commands written to the named pipe ``commands``.

:meth:`Speaker.announce` on a running speaker sends the difference (withdraw,
announce) through that pipe, so the sessions stay up, and rewrites the config
so a restarted speaker announces the same.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ixp.exabgp import config, process
from ixp.exabgp.config import Neighbor, token
from ixp.exabgp.decode import Decoder, MalformedMessage, RouteUpdate, StateChange
from ixp.lab.member import MemberRouter, Peer, ReceivedRoute, Route
from ixp.lab.netns import LabError, adopt


def _received(update: RouteUpdate) -> Iterator[ReceivedRoute]:
    """The routes one decoded UPDATE announces, as the member holds them."""
    attributes = update.attributes
    if attributes is None:
        return
    communities = frozenset(f"{a}:{b}" for a, b in attributes.communities)
    large = frozenset(f"{a}:{b}:{c}" for a, b, c in attributes.large_communities)
    for (prefix, _path_id), next_hop in update.announced:
        yield ReceivedRoute(
            update.peer, prefix, next_hop, attributes.as_path, communities, large, attributes.med
        )


def replay(lines: Iterable[str]) -> dict[tuple[str, str], ReceivedRoute]:
    """The routes held after ExaBGP's JSON messages ``lines``, keyed by (peer, prefix).

    Read with the monitor's decoder, so the lab checks what ExaBGP sent the same
    way the monitor does. A session going down drops that peer's routes, as a
    router would. Lines that are not ExaBGP JSON (a cut-off last line while
    ExaBGP writes) are skipped.
    """
    decoder = Decoder()
    rib: dict[tuple[str, str], ReceivedRoute] = {}
    for line in lines:
        try:
            message = decoder.decode(line)
        except MalformedMessage:
            continue
        if isinstance(message, StateChange) and message.state != "up":
            for key in [key for key in rib if key[0] == message.peer]:
                del rib[key]
        elif isinstance(message, RouteUpdate):
            for prefix, _path_id in message.withdrawn:
                rib.pop((message.peer, prefix), None)
            rib.update(((route.peer, route.prefix), route) for route in _received(message))
    return rib


@dataclass
class Speaker(MemberRouter):
    """One simulated member router (an ExaBGP process) in ``namespace``."""

    exabgp_path: str | None = None

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

    @property
    def commands_path(self) -> Path:
        """The named pipe the agent relays text-API commands from."""
        return self.directory / "commands"

    def _route_text(self, route: Route) -> str:
        """``route PREFIX next-hop ... as-path [...] ...``: the same in config and text API."""
        next_hop = route.next_hop or self.address(route.family)
        path = route.as_path or (self.asn,)
        parts = [
            f"route {route.prefix} next-hop {token(next_hop, 'next hop')}",
            f"as-path [ {' '.join(str(asn) for asn in path)} ]",
        ]
        if route.communities:
            parts.append(f"community [ {' '.join(route.communities)} ]")
        if route.large_communities:
            parts.append(f"large-community [ {' '.join(route.large_communities)} ]")
        if route.med is not None:
            parts.append(f"med {route.med}")
        return " ".join(parts)

    def neighbors(self) -> list[Neighbor]:
        """One session per route-server address of a family the speaker has an address in."""
        neighbors = []
        for peer in sorted(self.sessions(), key=lambda p: (p.family, p.address)):
            routes = tuple(self._route_text(r) for r in self.routes if r.family == peer.family)
            neighbors.append(
                Neighbor(
                    peer_address=peer.address,
                    local_address=str(self.address(peer.family)),
                    router_id=self.router_id,
                    local_as=self.asn,
                    peer_as=peer.asn,
                    family=peer.family,
                    receive=self.receive,
                    routes=routes,
                )
            )
        return neighbors

    def render(self) -> str:
        """The ExaBGP configuration: the relay as API process, one neighbor per session."""
        relay = [sys.executable, "-m", "ixp.exabgp.relay", self.received_path, self.commands_path]
        return config.render("agent", relay, self.neighbors())

    def write_config(self) -> None:
        """Write the rendered config to :attr:`config_path`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render(), encoding="utf-8")

    def start(self) -> None:
        """Start ExaBGP with the current routes (the recorded history starts afresh)."""
        if self.running():
            return
        self.write_config()
        self.received_path.write_bytes(b"")
        if not self.commands_path.exists():
            os.mkfifo(self.commands_path, 0o600)
        self.pid = adopt(
            process.start(
                self.config_path,
                log=self.log_path,
                exabgp_path=self.exabgp_path,
                namespace=self.namespace,
            )
        )

    def sent(self, peer: Peer) -> int:
        """ExaBGP sends every route of the peer's family, exactly as given."""
        return sum(1 for route in self.routes if route.family == peer.family)

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
        """What the member holds now, replayed from the messages the relay recorded."""
        if not self.received_path.exists():
            return {}
        with self.received_path.open(encoding="utf-8", errors="replace") as lines:
            return replay(lines)
