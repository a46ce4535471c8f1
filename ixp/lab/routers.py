"""Members running a real router on their ``ixp member snippet``: FRR's bgpd, or BIRD.

An ExaBGP speaker (:mod:`ixp.lab.exabgp`) sends whatever a test asks; these
routers run the configuration ixp hands the member, so a test can show that it
works (sessions up with every route server, the other members' routes
installed, the member's own prefixes accepted), not only that it parses.

The configuration is three parts, each marked in the file: the lab's prologue
(router id, logging: what the member's router has anyway), the snippet exactly
as ``ixp member snippet`` prints it, and the lab's origination of the member's
prefixes (``network`` statements for FRR, a static protocol for BIRD). The
snippet decides what leaves the router; the origination only puts routes in
its table, as a member's own configuration would.
"""

from __future__ import annotations

import abc
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ixp.bird import ProtocolStatus
from ixp.lab.bird import MAX_SOCKET_PATH, BirdDaemon
from ixp.lab.member import MemberRouter, Peer, ReceivedRoute
from ixp.lab.netns import LabError, run, spawn, stop_pids, wait_until
from ixp.settings import Settings

# Debian's frr package keeps its daemons in /usr/lib/frr, off PATH; vtysh is on it.
BGPD = "/usr/lib/frr/bgpd"
ZEBRA = "/usr/lib/frr/zebra"
VTYSH = "vtysh"
# FRR daemons drop to user frr unless told otherwise, and refuse a user outside FRR's vty
# group: root with that group as its primary group passes the check and keeps the access
# to the lab's root-owned directories.
_FRR_RUN_AS = ("-u", "root", "-g", "frrvty")
# How bgpd reports a configuration line it cannot take; it logs it and carries on.
_FRR_CONFIG_ERROR = re.compile(r".* on config line \d+:.*")
_FAMILY_KEYS = {4: "ipv4Unicast", 6: "ipv6Unicast"}


@dataclass
class SnippetRouter(MemberRouter):
    """A member router running ``snippet`` unchanged, between the lab's prologue and origination."""

    snippet: str = ""
    COMMENT: ClassVar[str] = "#"

    def __post_init__(self) -> None:
        for route in self.routes:
            if route.as_path or route.next_hop or route.communities or route.large_communities:
                raise LabError(
                    f"route {route.prefix} of AS{self.asn}: a snippet router originates its "
                    "prefixes itself (no AS path, next hop or communities can be given)"
                )

    @property
    @abc.abstractmethod
    def config_path(self) -> Path:
        """The router's configuration file."""

    @abc.abstractmethod
    def prologue(self) -> list[str]:
        """The lab's part before the snippet: the router's identity."""

    @abc.abstractmethod
    def origination(self, family: int, prefixes: list[str]) -> list[str]:
        """The lab's part after the snippet: put ``prefixes`` in the router's table."""

    def render(self) -> str:
        """The whole configuration file, its three parts marked."""
        c = self.COMMENT
        lines = [f"{c} ---- lab: the router's identity (not part of the snippet) ----"]
        lines += self.prologue()
        lines += [f"{c} ---- ixp member snippet, unchanged ----", self.snippet.rstrip("\n")]
        lines.append(f"{c} ---- lab: the prefixes it originates (not part of the snippet) ----")
        for family in (4, 6):
            prefixes = [route.prefix for route in self.routes if route.family == family]
            if prefixes:
                lines += self.origination(family, prefixes)
        return "\n".join(lines) + "\n"

    def session_addresses(self) -> set[str]:
        """The route-server addresses it has sessions with."""
        return {peer.address for peer in self.sessions()}


@dataclass
class FrrRouter(SnippetRouter):
    """FRR with the member's FRR snippet: zebra and bgpd in the member's namespace.

    zebra is needed, as on any FRR router: bgpd alone knows no interfaces, and
    then drops every IPv6 route whose next hop includes a link-local address
    (BIRD members send one) as an attribute error. The originated prefixes are
    blackhole routes in the namespace's kernel table, which zebra reads, so the
    ``network`` statements find them in the RIB as on a member's router.
    Sockets, pid files and logs are in the member's directory and the vtys
    listen on no TCP port, so neither several routers at once nor an FRR
    service running on the machine meet them.
    """

    bgpd_path: str = BGPD
    zebra_path: str = ZEBRA
    vtysh_path: str = VTYSH
    COMMENT: ClassVar[str] = "!"

    @property
    def config_path(self) -> Path:
        """bgpd's configuration file."""
        return self.directory / "bgpd.conf"

    @property
    def log_path(self) -> Path:
        """bgpd's log (stdout and stderr)."""
        return self.directory / "bgpd.log"

    @property
    def zserv(self) -> Path:
        """The socket bgpd reaches zebra on."""
        return self.directory / "zserv.api"

    @property
    def vty_socket(self) -> Path:
        """The control socket vtysh talks to (bgpd names it after itself in ``directory``)."""
        return self.directory / "bgpd.vty"

    def prologue(self) -> list[str]:
        """Host name and a router id that does not depend on the interfaces."""
        return [
            f"hostname as{self.asn}",
            f"router bgp {self.asn}",
            f" bgp router-id {self.router_id}",
        ]

    def origination(self, family: int, prefixes: list[str]) -> list[str]:
        """``network`` statements in the family's address family (the routes are in the RIB)."""
        return [
            f"router bgp {self.asn}",
            f" address-family ipv{family} unicast",
            *(f"  network {prefix}" for prefix in prefixes),
            " exit-address-family",
        ]

    def _daemon(self, path: str, config: Path, *extra: str) -> list[str]:
        return [
            path, "-f", str(config), "--vty_socket", str(self.directory), "-P", "0",
            *_FRR_RUN_AS, *extra,
        ]  # fmt: skip

    def check(self) -> None:
        """bgpd's dry run of the configuration: every line it refuses is a LabError.

        bgpd only logs a refused line and runs on without it (its dry run exits 0
        as well), so the output is read for the lines it names.
        """
        result = run(self._daemon(self.bgpd_path, self.config_path, "-C", "-Z"), check=False)
        refused = _FRR_CONFIG_ERROR.findall(result.stdout + result.stderr)
        if refused or result.returncode != 0:
            detail = "; ".join(line.strip() for line in refused) or result.stderr.strip()
            raise LabError(f"FRR refuses the configuration of AS{self.asn}: {detail}")

    def start(self) -> None:
        """Check the configuration, put the prefixes in the RIB, start zebra, then bgpd."""
        if self.running():
            return
        for socket in (self.zserv, self.vty_socket):
            if len(str(socket)) > MAX_SOCKET_PATH:
                raise LabError(f"socket path {str(socket)!r} is too long for AF_UNIX")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render(), encoding="utf-8")
        zebra_config = self.directory / "zebra.conf"
        zebra_config.write_text(f"hostname as{self.asn}\n", encoding="utf-8")
        self.check()
        for route in self.routes:
            run(["ip", "-n", self.namespace, "route", "replace", "blackhole", route.prefix])
        self.zserv.unlink(missing_ok=True)  # a socket left by a zebra that is gone
        spawn(
            self._daemon(self.zebra_path, zebra_config, "-z", str(self.zserv),
                         "-i", str(self.directory / "zebra.pid"), "--log", "stdout"),
            namespace=self.namespace,
            log=self.directory / "zebra.log",
        )  # fmt: skip
        wait_until(self.zserv.exists, timeout=15, what=f"zebra of AS{self.asn}")
        self.pid = spawn(
            self._daemon(self.bgpd_path, self.config_path, "-z", str(self.zserv),
                         "-i", str(self.directory / "bgpd.pid"), "--log", "stdout"),
            namespace=self.namespace,
            log=self.log_path,
        )  # fmt: skip
        wait_until(self.ready, timeout=15, what=f"bgpd of AS{self.asn}")

    def stop(self) -> None:
        """Stop bgpd (its sessions close with a NOTIFICATION), then zebra."""
        pids = [self.pid] if self.pid is not None else []
        zebra_pid = self.directory / "zebra.pid"
        with contextlib.suppress(OSError, ValueError):  # zebra never started, or is gone
            pids.append(int(zebra_pid.read_text().strip()))
        stop_pids(pids)
        zebra_pid.unlink(missing_ok=True)
        self.pid = None

    def ready(self) -> bool:
        """True once bgpd answers on its vty socket."""
        if not self.vty_socket.exists():
            return False
        try:
            self.show("show bgp summary json")
        except LabError:
            return False
        return True

    def show(self, command: str) -> dict[str, Any]:
        """bgpd's JSON answer to a ``show ... json`` command."""
        result = run(
            [self.vtysh_path, "--vty_socket", str(self.directory), "-d", "bgpd", "-c", command]
        )
        try:
            answer = json.loads(result.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise LabError(f"AS{self.asn}: vtysh {command!r} gave no JSON ({exc})") from None
        if not isinstance(answer, dict):
            raise LabError(f"AS{self.asn}: vtysh {command!r} gave no JSON object")
        return answer

    def sent(self, peer: Peer) -> int:
        """The routes bgpd sent to ``peer`` (``pfxSnt``), after its export route-map."""
        summary = self.show("show bgp summary json")
        state = summary.get(_FAMILY_KEYS[peer.family], {}).get("peers", {}).get(peer.address, {})
        return int(state.get("pfxSnt", 0))

    def received(self) -> dict[tuple[str, str], ReceivedRoute]:
        """The paths bgpd holds from the route servers, one per session and prefix."""
        sessions = self.session_addresses()
        held: dict[tuple[str, str], ReceivedRoute] = {}
        for family in sorted({peer.family for peer in self.sessions()}):
            table = self.show(f"show bgp ipv{family} unicast json").get("routes", {})
            for route in _frr_routes(table, sessions):
                held[(route.peer, route.prefix)] = route
        return held


def _frr_routes(table: dict[str, Any], sessions: set[str]) -> Iterator[ReceivedRoute]:
    """Paths of bgpd's table (``show bgp ... json``) learnt from one of ``sessions``."""
    for prefix, paths in table.items():
        for path in paths:
            peer = path.get("peerId")
            if peer not in sessions:
                continue  # "(unspec)": originated here
            hops = path.get("nexthops") or [{}]
            global_hops = [hop for hop in hops if hop.get("scope", "global") == "global"]
            next_hop = (global_hops or hops)[0].get("ip", "")
            as_path = tuple(int(asn) for asn in re.findall(r"\d+", path.get("path", "")))
            yield ReceivedRoute(peer, prefix, next_hop, as_path, med=path.get("metric"))


@dataclass
class BirdRouter(SnippetRouter):
    """BIRD 2 with the member's BIRD snippet, in the member's namespace.

    Started and queried like a route server's BIRD (:class:`~ixp.lab.bird.BirdDaemon`):
    a configuration BIRD refuses comes back from :meth:`start` with BIRD's message.
    """

    settings: Settings = field(kw_only=True)
    COMMENT: ClassVar[str] = "#"

    @property
    def config_path(self) -> Path:
        """BIRD's configuration file."""
        return self.directory / "bird.conf"

    @property
    def daemon(self) -> BirdDaemon:
        """The BIRD process: its config, control socket and pid file in ``directory``."""
        return BirdDaemon(
            namespace=self.namespace,
            config=self.config_path,
            socket=self.directory / "bird.ctl",
            pidfile=self.directory / "bird.pid",
            settings=self.settings,
        )

    @property
    def log_path(self) -> Path:
        """BIRD's log file (named in the prologue)."""
        return self.directory / "bird.log"

    def prologue(self) -> list[str]:
        """Log file, router id, and the device protocol BGP needs to find its neighbors."""
        if '"' in str(self.log_path):
            raise LabError(f"log path {str(self.log_path)!r} cannot be a BIRD string")
        return [f'log "{self.log_path}" all;', f"router id {self.router_id};", "protocol device {}"]

    def origination(self, family: int, prefixes: list[str]) -> list[str]:
        """A static protocol holding ``prefixes`` (blackhole routes, as for an aggregate)."""
        return [
            f"protocol static lab_originate_v{family} {{",
            f"\tipv{family};",
            *(f"\troute {prefix} blackhole;" for prefix in prefixes),
            "}",
        ]

    def start(self) -> None:
        """Write the configuration and start BIRD (it checks the configuration first)."""
        if self.running():
            return
        daemon = self.daemon
        self.directory.mkdir(parents=True, exist_ok=True)
        daemon.config.write_text(self.render(), encoding="utf-8")
        daemon.start()
        self.pid = daemon.pid()

    def stop(self) -> None:
        """Stop BIRD and remove its socket and pid file."""
        self.daemon.stop()
        self.pid = None

    def _sessions(self) -> dict[str, ProtocolStatus]:
        """BIRD's BGP protocols with the route servers, by protocol name."""
        sessions = self.session_addresses()
        return {p.name: p for p in self.daemon.protocols() if p.neighbor_address in sessions}

    def sent(self, peer: Peer) -> int:
        """The routes BIRD exported to ``peer``, after the snippet's export filter."""
        for protocol in self._sessions().values():
            if protocol.neighbor_address == peer.address:
                return protocol.exported
        return 0

    def received(self) -> dict[tuple[str, str], ReceivedRoute]:
        """Every route BIRD holds from a route server (best or not), by session and prefix."""
        sessions = self._sessions()
        held: dict[tuple[str, str], ReceivedRoute] = {}
        for route in self.daemon.routes():
            protocol = sessions.get(route.protocol)
            if protocol is None or protocol.neighbor_address is None:
                continue
            peer = protocol.neighbor_address
            held[(peer, route.prefix)] = ReceivedRoute(
                peer,
                route.prefix,
                route.next_hop or "",
                route.as_path,
                frozenset(route.communities),
                frozenset(route.large_communities),
                route.med,
            )
        return held
