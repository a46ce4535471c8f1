"""The whole lab: route servers and members of an exchange, live in namespaces on this machine.

A :class:`LabLayout` says who is in the lab (route servers with their addresses,
members with their addresses and the routes they announce); it is plain data,
built from the database by :func:`layout_from_database` or by hand in a test.
:class:`Lab` makes it real: a namespace per node, a bridge as the peering LAN,
BIRD in each route-server namespace with the config it is given, and a router
per member: an ExaBGP speaker, or FRR or BIRD running the member's snippet.

``up`` records every namespace it is about to create in ``state.json`` (under
``settings.home/lab/``) before creating it, so ``down`` -- from the same
process or a later ``ixp lab down`` after a crash -- removes exactly those and
the processes inside them, and then the run directory and the state file.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ixp.bird import ProtocolStatus
from ixp.errors import Conflict, NotFound, Remedy
from ixp.lab import netns
from ixp.lab.bird import BirdDaemon
from ixp.lab.exabgp import Speaker
from ixp.lab.layout import LabLayout, MemberNode, RouteServerNode, layout_from_database
from ixp.lab.member import MemberRouter, Peer, ReceivedRoute, Route
from ixp.lab.routers import BirdRouter, FrrRouter
from ixp.models import Exchange
from ixp.rs.build import build
from ixp.settings import Settings

_NEIGHBOR = re.compile(r"^\s*neighbor\s", re.M)
_NEIGHBOUR_ROOM = 1024

STATE_FILE = "state.json"


@dataclass(frozen=True)
class Node:
    """A namespace on the peering LAN and its addresses (route server, member or an extra)."""

    name: str
    namespace: str
    ipv4: str | None
    ipv6: str | None


@dataclass
class _State:
    """What ``up`` created, as written to the state file."""

    prefix: str
    directory: str
    namespaces: list[str] = field(default_factory=list)
    ports: int = 0
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    speakers: dict[str, int | None] = field(default_factory=dict)
    layout: dict[str, Any] = field(default_factory=dict)


def lab_home(settings: Settings) -> Path:
    """The directory holding the lab's state file and run directories, as an absolute path.

    Absolute because BIRD's socket, ExaBGP's config and the agent's files are
    handed to processes that run in other directories.
    """
    return (settings.home / "lab").resolve()


class Lab:
    """A running (or about to run) lab; see the package docstring for the API in use."""

    def __init__(
        self, layout: LabLayout, settings: Settings, rs_configs: Mapping[str, str]
    ) -> None:
        missing = [rs.name for rs in layout.route_servers if rs.name not in rs_configs]
        if missing:
            raise NotFound(f"route server config: none given for {', '.join(missing)}")
        self.layout = layout
        self.settings = settings
        self.rs_configs = dict(rs_configs)
        self._state: _State | None = None
        self._speakers: dict[str, MemberRouter] = {}

    # -- life cycle -------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        """The state file of the lab of these settings."""
        return lab_home(self.settings) / STATE_FILE

    @property
    def directory(self) -> Path:
        """The run directory (configs, sockets, logs, received routes)."""
        return Path(self._require_state().directory)

    @property
    def prefix(self) -> str:
        """The per-run name prefix shared by every namespace of the lab."""
        return self._require_state().prefix

    def up(self) -> None:
        """Create the namespaces and the LAN, start every BIRD and every speaker.

        On any failure everything created so far is removed before the error
        is raised; ``up`` never leaves a half-built lab behind.
        """
        if self.state_path.exists():
            raise Conflict(f"already up ({self.state_path})", field="lab", hint=Remedy.LAB_DOWN)
        prefix = f"ixp{secrets.token_hex(3)}"
        directory = lab_home(self.settings) / prefix
        self._state = _State(prefix=prefix, directory=str(directory), layout=self.layout.to_dict())
        try:
            directory.mkdir(parents=True)
            self._save()
            netns.ensure_neighbour_room(self.neighbour_entries())
            lan = self._create_namespace("lan")
            netns.create_bridge(lan)
            for rs in self.layout.route_servers:
                self.add_node(f"rs-{rs.name}", rs.ipv4, rs.ipv6)
            for member in self.layout.members:
                self.add_node(f"as{member.asn}", member.ipv4, member.ipv6)
            for rs in self.layout.route_servers:
                self._start_bird(rs)
            for member in self.layout.members:
                speaker = self._speaker_for(member)
                speaker.start()
            self._save()
        except BaseException:
            self.down()
            raise

    def neighbour_entries(self) -> int:
        """Neighbour entries the lab may need: every route server's BGP neighbours (absent
        members' too), every node, and room for what else the host runs."""
        sessions = sum(len(_NEIGHBOR.findall(config)) for config in self.rs_configs.values())
        return sessions + len(self.layout.members) + _NEIGHBOUR_ROOM

    def down(self) -> None:
        """Stop everything ``up`` started and delete every namespace and file it created."""
        state = self._state
        if state is None:
            return
        pids = netns.namespace_pids(*state.namespaces)
        # Nothing needs a graceful BGP shutdown when the whole LAN goes: a short grace.
        netns.stop_pids(pids, grace=2.0)
        for name in reversed(state.namespaces):
            netns.delete_namespace(name)
        shutil.rmtree(state.directory, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)
        self._state = None
        self._speakers.clear()

    @classmethod
    def from_database(
        cls,
        session: Session,
        settings: Settings,
        exchange: Exchange | None = None,
        routes: Mapping[int, Sequence[Route]] | None = None,
        routers: Mapping[int, str] | None = None,
    ) -> Lab:
        """The lab of the exchange in the database, with freshly built route-server configs.

        The configs come from the same build as ``ixp rs build`` (parse-checked by
        BIRD); members the build leaves out (suspended, no session) are left out.
        ``routes`` replaces what the given members announce, ``routers`` runs the
        given members on FRR or BIRD with their snippet (see
        :func:`~ixp.lab.layout.layout_from_database`).
        """
        with tempfile.TemporaryDirectory(prefix="ixp-lab-build-") as out:
            report = build(session, settings, Path(out), exchange=exchange)
            configs = {
                rs.rs_name: Path(rs.path).read_text(encoding="utf-8") for rs in report.route_servers
            }
        configured = {member.asn for rs in report.route_servers for member in rs.members}
        layout = layout_from_database(session, settings, exchange, configured, routes, routers)
        return cls(layout, settings, configs)

    @classmethod
    def load(cls, settings: Settings) -> Lab | None:
        """The lab recorded in the state file of ``settings`` (a lab another process started)."""
        path = lab_home(settings) / STATE_FILE
        if not path.exists():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        state = _State(**raw)
        layout = LabLayout.from_dict(state.layout)
        lab = cls(layout, settings, {rs.name: "" for rs in layout.route_servers})
        lab._state = state
        return lab

    # -- nodes ------------------------------------------------------------------------------

    def add_node(self, name: str, ipv4: str | None = None, ipv6: str | None = None) -> Node:
        """A new namespace on the peering LAN with these addresses (e.g. a monitor collector)."""
        state = self._require_state()
        if name in state.nodes:
            raise Conflict(f"lab node: {name!r} already exists")
        namespace = self._create_namespace(name)
        port = f"p{state.ports}"
        state.ports += 1
        netns.attach(namespace, self._namespace("lan"), port)
        for address, lan in ((ipv4, self.layout.lan4), (ipv6, self.layout.lan6)):
            if address is not None and lan is not None:
                netns.add_address(namespace, address, lan)
        state.nodes[name] = {"namespace": namespace, "ipv4": ipv4, "ipv6": ipv6}
        self._save()
        return self.node(name)

    def node(self, name: str) -> Node:
        """A node by name: ``rs-<name>`` for route servers, ``as<asn>`` for members."""
        raw = self._require_state().nodes.get(name)
        if raw is None:
            raise NotFound(f"lab node: {name!r} not found")
        return Node(name=name, **raw)

    def nodes(self) -> list[Node]:
        """Every node, in creation order."""
        return [self.node(name) for name in self._require_state().nodes]

    # -- route servers ----------------------------------------------------------------------

    def bird(self, rs_name: str) -> BirdDaemon:
        """The BIRD daemon of route server ``rs_name``."""
        node = self.node(f"rs-{rs_name}")
        run_dir = self.directory / "rs"
        return BirdDaemon(
            namespace=node.namespace,
            config=run_dir / f"{rs_name}.conf",
            socket=run_dir / f"{rs_name}.ctl",
            pidfile=run_dir / f"{rs_name}.pid",
            settings=self.settings,
        )

    def birdc(self, rs_name: str, command: str) -> str:
        """BIRD's answer to ``command`` on route server ``rs_name``."""
        return self.bird(rs_name).birdc(command)

    def reconfigure(self, rs_name: str, config: str) -> None:
        """Give route server ``rs_name`` a new config and make BIRD load it (policy trials)."""
        self.rs_configs[rs_name] = config
        bird = self.bird(rs_name)
        bird.config.write_text(config, encoding="utf-8")
        bird.configure()

    def _start_bird(self, rs: RouteServerNode) -> None:
        bird = self.bird(rs.name)
        bird.config.parent.mkdir(parents=True, exist_ok=True)
        bird.config.write_text(self.rs_configs[rs.name], encoding="utf-8")
        bird.start()

    # -- members ----------------------------------------------------------------------------

    def member(self, asn: int) -> Speaker:
        """The ExaBGP speaker of member ``asn``: announce, stop, start, received."""
        router = self.router(asn)
        if not isinstance(router, Speaker):
            raise NotFound(f"lab speaker: AS{asn} runs {type(router).__name__}, not ExaBGP")
        return router

    def router(self, asn: int) -> MemberRouter:
        """The router of member ``asn``, whatever runs it: start, stop, sent, received."""
        return self.speaker(f"as{asn}")

    def add_member(self, member: MemberNode) -> MemberRouter:
        """Bring one more speaker onto the running lab: a late joiner, or a monitor's collector.

        BIRD only talks to it if its config has a session for the address.
        """
        if any(m.asn == member.asn for m in self.layout.members):
            raise Conflict(f"asn: AS{member.asn} is already in the lab")
        state = self._require_state()
        self.layout = replace(self.layout, members=(*self.layout.members, member))
        state.layout = self.layout.to_dict()
        self.add_node(f"as{member.asn}", member.ipv4, member.ipv6)
        speaker = self._speaker_for(member)
        speaker.start()
        self._save()
        return speaker

    def speaker(self, name: str) -> MemberRouter:
        """A member's router by node name."""
        if name not in self._speakers:
            state = self._require_state()
            if name not in state.speakers:
                raise NotFound(f"lab speaker: {name!r} not found")
            member = next(m for m in self.layout.members if f"as{m.asn}" == name)
            self._speakers[name] = self._make_speaker(member, state.speakers[name])
        return self._speakers[name]

    def speakers(self) -> list[MemberRouter]:
        """Every member's router, in layout order."""
        return [self.speaker(name) for name in self._require_state().speakers]

    def peers(self, member: MemberNode) -> list[Peer]:
        """The route-server addresses ``member``'s speaker connects to."""
        return [
            Peer(address, rs.asn)
            for rs in self.layout.route_servers
            for address in rs.addresses
            if not member.peers or address in member.peers
        ]

    def _make_speaker(self, member: MemberNode, pid: int | None) -> MemberRouter:
        """The router ``member.router`` names, for a member that runs (``pid``) or is to run."""
        common: dict[str, Any] = {
            "name": member.name,
            "asn": member.asn,
            "namespace": self.node(f"as{member.asn}").namespace,
            "directory": self.directory / "members" / f"as{member.asn}",
            "peers": self.peers(member),
            "ipv4": member.ipv4,
            "ipv6": member.ipv6,
            "routes": list(member.routes),
            "receive": member.receive,
            "pid": pid,
        }
        if member.router == "frr":
            return FrrRouter(**common, snippet=member.snippet)
        if member.router == "bird":
            return BirdRouter(**common, snippet=member.snippet, settings=self.settings)
        return Speaker(**common, exabgp_path=self.settings.lab_exabgp_path)

    def _speaker_for(self, member: MemberNode) -> MemberRouter:
        name = f"as{member.asn}"
        speaker = self._make_speaker(member, None)
        self._speakers[name] = speaker
        self._require_state().speakers[name] = None
        return speaker

    def save(self) -> None:
        """Record the speakers' current process ids (after ``stop``/``start`` from outside)."""
        self._save()

    # -- waiting ----------------------------------------------------------------------------

    def sessions(self, rs_name: str) -> dict[str, ProtocolStatus]:
        """BIRD's BGP protocols of route server ``rs_name`` keyed by neighbor address."""
        protocols = self.bird(rs_name).protocols()
        return {p.neighbor_address: p for p in protocols if p.neighbor_address is not None}

    def pending(self, skip: Iterable[int] = ()) -> list[str]:
        """What is not converged yet, one line per session; empty when the lab has settled.

        A session has settled when it is established, BIRD has taken in (imported
        or filtered) every route the speaker announces in that family, and a
        receiving speaker holds exactly as many routes from that session as BIRD
        says it exported. Members in ``skip`` (say, one over its max-prefix limit)
        are not waited for.
        """
        skipped = set(skip)
        problems: list[str] = []
        for rs in self.layout.route_servers:
            sessions = self.sessions(rs.name)
            for speaker in self.speakers():
                if speaker.asn in skipped or not speaker.running():
                    continue
                received = speaker.received() if speaker.receive else {}
                for peer in speaker.peers:
                    local = speaker.address(peer.family)
                    if local is None or peer.address not in rs.addresses:
                        continue
                    problem = _session_problem(
                        sessions.get(local), speaker, peer, received, rs.name
                    )
                    if problem:
                        problems.append(problem)
        return problems

    def wait_converged(self, timeout: float = 60.0, skip: Iterable[int] = ()) -> None:
        """Poll until :meth:`pending` is empty; on timeout the error lists what is still pending."""
        skip = tuple(skip)
        last: list[str] = []

        def settled() -> bool:
            last[:] = self.pending(skip)
            return not last

        try:
            netns.wait_until(settled, timeout=timeout, what="the lab to converge", interval=0.2)
        except netns.LabError as exc:
            raise netns.LabError(f"{exc}: {'; '.join(last[:5])}") from None

    # -- reporting --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What runs where: route servers with their sessions, members with their speakers."""
        state = self._require_state()
        route_servers = []
        for rs in self.layout.route_servers:
            bird = self.bird(rs.name)
            running = bird.ready()
            protocols = bird.protocols() if running else []
            sessions = [_session_summary(p) for p in protocols if p.proto == "BGP"]
            route_servers.append(
                {
                    "name": rs.name,
                    "namespace": self.node(f"rs-{rs.name}").namespace,
                    "socket": str(bird.socket),
                    "running": running,
                    "sessions": sessions,
                }
            )
        members = [
            {
                "asn": speaker.asn,
                "name": speaker.name,
                "namespace": speaker.namespace,
                "ipv4": speaker.ipv4,
                "ipv6": speaker.ipv6,
                "running": speaker.running(),
                "announced": len(speaker.routes),
                "received": len(speaker.received()),
            }
            for speaker in self.speakers()
        ]
        return {
            "up": True,
            "prefix": state.prefix,
            "directory": state.directory,
            "namespaces": list(state.namespaces),
            "route_servers": route_servers,
            "members": members,
        }

    # -- internals --------------------------------------------------------------------------

    def _namespace(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def _create_namespace(self, name: str) -> str:
        state = self._require_state()
        namespace = self._namespace(name)
        state.namespaces.append(namespace)
        self._save()
        netns.create_namespace(namespace)
        return namespace

    def _require_state(self) -> _State:
        if self._state is None:
            raise NotFound("lab: not up")
        return self._state

    def _save(self) -> None:
        state = self._require_state()
        for name, speaker in self._speakers.items():
            state.speakers[name] = speaker.pid
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state), indent=2, sort_keys=True), "utf-8")
        temporary.replace(self.state_path)


def _session_problem(
    protocol: ProtocolStatus | None,
    speaker: MemberRouter,
    peer: Peer,
    received: Mapping[tuple[str, str], ReceivedRoute],
    rs_name: str,
) -> str | None:
    """Why one speaker's session with one route-server address has not settled, or None."""
    label = f"{rs_name} {peer.address} <- {speaker.name} (AS{speaker.asn})"
    if protocol is None:
        return f"{label}: no BGP protocol for {speaker.address(peer.family)} in the config"
    if not protocol.established:
        return f"{label}: session {protocol.info or protocol.state}"
    announced = speaker.sent(peer)
    taken = protocol.imported + protocol.filtered
    if taken != announced:
        return f"{label}: BIRD has {taken} of {announced} routes"
    if speaker.receive:
        held = sum(1 for key in received if key[0] == peer.address)
        if held != protocol.exported:
            return f"{label}: speaker holds {held} of {protocol.exported} exported routes"
    return None


# What ``ixp lab status`` shows of a BGP session (counts are totals over its channels).
_SESSION_FIELDS = (
    "name",
    "state",
    "info",
    "neighbor_address",
    "neighbor_as",
    "imported",
    "filtered",
    "exported",
)


def _session_summary(protocol: ProtocolStatus) -> dict[str, Any]:
    """One BGP session for ``ixp lab status``: its state and route counts."""
    return {name: getattr(protocol, name) for name in _SESSION_FIELDS}
