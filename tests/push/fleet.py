"""Two live route servers to push to, over real SSH, with members sending real routes.

The exchange of ``tests/lab/exchange.py`` (four members, registry data and ROAs
from ``tests/data/lab``) with a second route server. The lab (:mod:`ixp.lab`)
runs both route servers' BIRD in namespaces on a bridge, each with its own
``sshd`` (:mod:`ixp.push.labssh`: a management link, a host key made here, root
login with a key made here); Ansible reaches them over that link exactly as it
would reach a route server. The members are one BIRD each in a namespace of
their own on the bridge (:mod:`ixp.push.speakers`, the impact preview's own
speakers), sending the routes below to both route servers in both families:
some accepted, some filtered, one (Charlie's 103.22.0.0/22) filtered until a
test registers it. BIRD speakers come back within seconds when a change resets
their session and support route refresh, so a reconfiguration never waits on a
speaker's reconnect back-off.

The database's route servers get the management address and control socket of
their lab namespace once the lab is up (the addresses exist only then; no
service changes a route server after ``add_route_server``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import db
from ixp.bird import BirdRoute, ProtocolStatus
from ixp.exchange import add_route_server
from ixp.lab import netns
from ixp.lab.bird import BirdDaemon
from ixp.lab.lab import Lab
from ixp.models import RouteServer
from ixp.push.labssh import LabSshd, SshKeys
from ixp.push.pipeline import PushRequest, run_push
from ixp.push.records import PushDetail
from ixp.push.speakers import OfferedRoute, Speaker, SpeakerSession, member_sessions, speaker_config
from ixp.settings import Settings
from tests.lab.exchange import (
    ALPHA,
    ALPHA_CUSTOMER,
    BRAVO,
    CHARLIE,
    DATA,
    DELTA,
    LAN4,
    LAN6,
    RS4,
    RS6,
    RS_ASN,
    RS_NAME,
    address,
    build_exchange,
    exchange_settings,
)

RS2_NAME, RS2_4, RS2_6 = "rs2", "185.1.50.2", "2001:7f8:a0::2"
ROUTE_SERVERS = {RS_NAME: (RS4, RS6), RS2_NAME: (RS2_4, RS2_6)}
BASE_RPSL = DATA / "irr.rpsl"
IXP = str(Path(sys.executable).parent / "ixp")
# Filtered until a test registers it for Charlie; no ROA covers it (RPKI unknown).
CHARLIE_NEW = "103.22.0.0/22"
BRAVO_DROPPED = "37.60.0.0/22"

# What each member sends, by family: (prefix, AS path after the member's own ASN).
ROUTES: dict[int, dict[int, list[tuple[str, tuple[int, ...]]]]] = {
    ALPHA: {
        4: [
            ("45.64.0.0/20", ()),  # RPKI valid
            ("45.65.0.0/22", ()),  # RPKI invalid: filtered
            ("45.66.0.0/20", (ALPHA_CUSTOMER,)),  # from its customer, RPKI unknown
            ("192.168.0.0/16", ()),  # a bogon: filtered
        ],
        6: [("2a0b:4000::/32", ()), ("2a0b:4002::/32", (ALPHA_CUSTOMER,))],
    },
    BRAVO: {
        4: [(BRAVO_DROPPED, ()), ("103.100.0.0/22", ())],
        6: [("2a0b:4100::/32", ()), ("2a0c:1000::/32", ())],
    },
    CHARLIE: {4: [("103.20.0.0/22", ()), (CHARLIE_NEW, ())], 6: [("2a0b:4200::/32", ())]},
    DELTA: {4: [("103.21.0.0/22", ())], 6: [("2a0b:4300::/32", ())]},
}


def rpsl_with(directory: Path, *, add: str = "", drop: tuple[str, ...] = ()) -> Path:
    """The lab's registry dump with route objects added and/or removed, as a file named by
    its content.

    The same content is the same file, written once and renamed into place: a test
    asks for the same dump again while a spawned push is still reading it, and a
    rewrite in place let that push read a truncated dump (AS-SETs "not in rpsl").
    """
    text = BASE_RPSL.read_text(encoding="utf-8")
    for prefix in drop:
        kind = "route6" if ":" in prefix else "route"
        start = text.index(f"{kind + ':':<16}{prefix}\n")
        end = text.find("\n\n", start)
        text = text[:start] + (text[end + 2 :] if end >= 0 else "")
    text += add
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    path = directory / f"irr-{digest}.rpsl"
    if not path.exists():
        staged = path.with_name(f".{path.name}.{os.getpid()}")
        staged.write_text(text, encoding="utf-8")
        staged.replace(path)
    return path


def charlie_route_object() -> str:
    """The route object that makes Charlie's 103.22.0.0/22 acceptable."""
    return f"\nroute:          {CHARLIE_NEW}\norigin:         AS{CHARLIE}\nsource:         TEST\n"


def _speaker(asn: int) -> Speaker:
    sessions = []
    for family in (4, 6):
        routes = tuple(
            OfferedRoute(prefix, (asn, *path), False, None, (), (), True, ())
            for prefix, path in ROUTES[asn][family]
        )
        for rs4, rs6 in ROUTE_SERVERS.values():
            rs_address = rs4 if family == 4 else rs6
            sessions.append(SpeakerSession(address(asn, family), rs_address, family, routes))
    return Speaker(f"as{asn}", asn, tuple(sessions))


def sent(asn: int) -> int:
    """Routes member ``asn`` sends to each route server."""
    return sum(len(routes) for routes in ROUTES[asn].values())


@dataclass
class Fleet:
    """The running route servers, their sshds, the members, and the settings to push with."""

    directory: Path
    settings: Settings
    lab: Lab
    keys: SshKeys
    sshd: dict[str, LabSshd]
    members: dict[int, BirdDaemon] = field(default_factory=dict)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the fleet's database."""
        engine = db.engine_from_settings(self.settings)
        try:
            with db.session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()

    def push(self, settings: Settings | None = None, **request: object) -> PushDetail:
        """One push in this process (``request``: PushRequest's fields besides the actor)."""
        with self.session() as session:
            return run_push(
                session,
                settings or self.settings,
                PushRequest(actor="test", **request),  # type: ignore[arg-type]
            )

    def config_path(self, rs: str) -> Path:
        """The file BIRD of ``rs`` runs (and the push replaces)."""
        return self.lab.bird(rs).config

    def live(self, rs: str) -> str:
        """The live configuration file of ``rs``."""
        return self.config_path(rs).read_text(encoding="utf-8")

    def sessions(self, rs: str) -> dict[str, ProtocolStatus]:
        """The member sessions of ``rs`` by member address."""
        return {p.neighbor_address or "": p for p in member_sessions(self.lab.bird(rs).protocols())}

    def accepted(self, rs: str) -> set[str]:
        """The prefixes ``rs`` accepted, from any member."""
        return {route.prefix for route in self._routes(rs, "")}

    def filtered(self, rs: str) -> set[str]:
        """The prefixes ``rs`` filtered."""
        return {route.prefix for route in self._routes(rs, "filtered")}

    def _routes(self, rs: str, arguments: str) -> list[BirdRoute]:
        return self.lab.bird(rs).routes(arguments)

    def pending(self) -> list[str]:
        """Member sessions not established or not holding every route sent, per route server."""
        problems = []
        for rs in ROUTE_SERVERS:
            sessions = self.sessions(rs)
            for asn in ROUTES:
                for family in (4, 6):
                    protocol = sessions.get(address(asn, family))
                    count = len(ROUTES[asn][family])
                    if protocol is None or not protocol.established:
                        problems.append(f"{rs} AS{asn} v{family}: not established")
                    elif protocol.imported + protocol.filtered != count:
                        problems.append(f"{rs} AS{asn} v{family}: {protocol.imported} imported")
        return problems

    def wait_settled(self, timeout: float = 60) -> None:
        """Until every member session is up on both route servers with all its routes."""
        last: list[str] = []

        def settled() -> bool:
            last[:] = self.pending()
            return not last

        try:
            netns.wait_until(settled, timeout=timeout, what="the members' sessions", interval=0.3)
        except netns.LabError as exc:
            raise netns.LabError(f"{exc}: {'; '.join(last)}") from None

    def write_config_file(self, settings: Settings | None = None) -> Path:
        """The fleet's settings (or ``settings``) as a TOML file, for ``ixp`` in a process."""
        values = (settings or self.settings).model_dump(mode="json", exclude_none=True)
        lines = []
        for key, value in sorted(values.items()):
            if isinstance(value, dict):
                continue
            lines.append(f"{key} = {_toml(value)}")
        for key, value in sorted(values.items()):
            if isinstance(value, dict) and value:
                lines.append(f"\n[{key}]")
                lines += [f"{name} = {_toml(item)}" for name, item in sorted(value.items())]
        path = self.directory / "ixp.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _env(self, settings: Settings | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IXP_")}
        return {**env, "IXP_CONFIG": str(self.write_config_file(settings)), "IXP_ACTOR": "spawned"}

    def spawn_push(
        self, *arguments: str, settings: Settings | None = None
    ) -> subprocess.Popen[str]:
        """``ixp push ARGUMENTS`` in a process (and session) of its own, on the fleet's settings."""
        return subprocess.Popen(
            [IXP, "push", *arguments],
            env=self._env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def run_ixp(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """``ixp ARGUMENTS`` to completion, on the fleet's settings."""
        return subprocess.run(
            [IXP, *arguments], env=self._env(None), capture_output=True, text=True, timeout=120
        )

    @staticmethod
    def kill(process: subprocess.Popen[str]) -> None:
        """SIGKILL a spawned push and everything it started (ansible-playbook, ssh)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _start_members(fleet: Fleet) -> None:
    node = fleet.lab.add_node("members", address(ALPHA, 4), address(ALPHA, 6))
    for asn in (BRAVO, CHARLIE, DELTA):
        netns.add_address(node.namespace, address(asn, 4), LAN4)
        netns.add_address(node.namespace, address(asn, 6), LAN6)
    for asn in ROUTES:
        directory = fleet.lab.directory / "members"
        directory.mkdir(exist_ok=True)
        daemon = BirdDaemon(
            namespace=node.namespace,
            config=directory / f"as{asn}.conf",
            socket=directory / f"as{asn}.ctl",
            pidfile=directory / f"as{asn}.pid",
            settings=fleet.settings,
        )
        daemon.config.write_text(speaker_config(_speaker(asn), RS_ASN), encoding="ascii")
        daemon.start()
        fleet.members[asn] = daemon


@contextlib.contextmanager
def running_fleet(directory: Path) -> Iterator[Fleet]:
    """The fleet up and settled; everything removed afterwards, whatever happened."""
    base = exchange_settings(directory)
    engine = db.engine_from_settings(base)
    with db.session_factory(engine)() as session:
        build_exchange(session, base)
        add_route_server(
            session,
            name=RS2_NAME,
            asn=RS_ASN,
            router_id=RS2_4,
            ipv4=RS2_4,
            ipv6=RS2_6,
            actor="test",
        )
        built = Lab.from_database(session, base)
    lab = Lab(replace(built.layout, members=()), base, built.rs_configs)
    keys = SshKeys.create(directory / "keys")
    fleet = Fleet(directory, base, lab, keys, {})
    try:
        lab.up()
        for rs in ROUTE_SERVERS:
            sshd = LabSshd(lab.node(f"rs-{rs}").namespace, directory / f"sshd-{rs}", keys)
            sshd.start()
            fleet.sshd[rs] = sshd
        with db.session_factory(engine)() as session:
            for rs in session.scalars(select(RouteServer)):
                rs.mgmt_host = fleet.sshd[rs.name].address
                rs.control_socket = str(lab.bird(rs.name).socket)
            session.commit()
        fleet.settings = base.model_copy(
            update={
                "push_irr_rpsl": [BASE_RPSL],
                "push_ssh_key": keys.client_key,
                "push_ssh_known_hosts": keys.known_hosts,
                "push_ssh_port": 2222,
                "push_config_paths": {rs: str(lab.bird(rs).config) for rs in ROUTE_SERVERS},
                "push_confirm_timeout_seconds": 40,
                "push_health_timeout_seconds": 10,
                "push_health_interval_seconds": 1.0,
                "push_preview_timeout_seconds": 40,
                "push_preview_quiet_seconds": 4.0,
                "push_ansible_timeout_seconds": 240,
            }
        )
        _start_members(fleet)
        fleet.wait_settled()
        yield fleet
    finally:
        engine.dispose()
        lab.down()


def wait_for(condition: object, timeout: float, what: str) -> None:
    """Poll ``condition`` (a callable) until true."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)
