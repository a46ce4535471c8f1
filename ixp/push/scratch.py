"""The scratch exchange of an impact preview: a BIRD on the new configuration and the members'
speakers, in network namespaces of their own.

Three namespaces, named after this process: a bridge standing in for the peering
LAN, the route server (its LAN addresses, BIRD on the new configuration with
every export turned off) and the members (every member address, one speaker
BIRD each). Nothing is created in the host's namespace, and everything goes with
the namespaces; a preview killed half way leaves namespaces named after a
process that is gone, which the next preview removes.

Exports are turned off (:func:`without_exports`) because the preview is about
what the route server takes in: with them, BIRD would send every accepted route
to every member, the bulk of a route server's work at start-up and none of the
answer.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ixp.bird import BirdClient, ProtocolStatus, parse_routes
from ixp.errors import SourceUnavailable
from ixp.lab import netns
from ixp.lab.bird import BirdDaemon
from ixp.monitor.routes import reject_codes
from ixp.push.speakers import Speaker, member_sessions, speaker_config
from ixp.settings import Settings

NAME_PREFIX = "ixpv"
_STALE = re.compile(rf"^{NAME_PREFIX}(\d+)-[0-9a-f]+")
# Comments and strings, which the export rewrite must leave alone.
_STRING_OR_COMMENT = re.compile(r'"[^"\n]*"|#[^\n]*|/\*.*?\*/', re.S)
_EXPORT = re.compile(r"\bexport\s+(?:where\b[^;{}]*|all|none|filter\s+\w+)\s*;")
_INLINE_EXPORT_FILTER = re.compile(r"\bexport\s+filter\s*\{")
_POLL_SECONDS = 0.5
_START_WORKERS = 4


def without_exports(config: str) -> str:
    """``config`` with every ``export`` statement made ``export none``.

    Refuses (``SourceUnavailable``) a configuration with an inline export filter,
    whose end a rewrite cannot find without parsing BIRD's filter language.
    """
    parts: list[str] = []
    position = 0
    for match in _STRING_OR_COMMENT.finditer(config):
        parts.append(_code_without_exports(config[position : match.start()]))
        parts.append(match.group())
        position = match.end()
    parts.append(_code_without_exports(config[position:]))
    return "".join(parts)


def _code_without_exports(code: str) -> str:
    if _INLINE_EXPORT_FILTER.search(code):
        raise SourceUnavailable(
            "impact preview: the configuration has an inline export filter it cannot turn off"
        )
    return _EXPORT.sub("export none;", code)


def remove_stale() -> None:
    """Delete the namespaces and files of previews whose process is gone (killed ones)."""
    for name in netns.list_namespaces():
        found = _STALE.match(name)
        if found and int(found.group(1)) != os.getpid() and not netns.alive(int(found.group(1))):
            netns.delete_namespace(name)
    for path in Path(tempfile.gettempdir()).glob(f"{NAME_PREFIX}*"):
        found = _STALE.match(path.name)
        if found and int(found.group(1)) != os.getpid() and not netns.alive(int(found.group(1))):
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Verdict:
    """What the scratch route server did with one route."""

    accepted: bool
    codes: tuple[int, ...]


@dataclass(frozen=True)
class ScratchResult:
    """The scratch route server's sessions (by member address) and its verdict on each
    route, by (member address, prefix); and how long each step took."""

    sessions: dict[str, ProtocolStatus]
    verdicts: dict[tuple[str, str], Verdict]
    seconds: dict[str, float]


def _batch(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path


class Scratch:
    """The namespaces, files and daemons of one preview (use :func:`scratch`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_id = f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(2)}"
        self.directory = Path(tempfile.gettempdir()) / self.run_id
        self.namespaces: list[str] = []

    def namespace(self, role: str) -> str:
        """The name of this preview's namespace for ``role`` (lan, rs, members)."""
        return f"{self.run_id}-{role}"

    def create(self, lan: Mapping[int, str], rs_addresses: Mapping[int, str]) -> None:
        """The bridge, the route server's namespace with its addresses, the members' one."""
        self.directory.mkdir(mode=0o700)
        for role in ("lan", "rs", "members"):
            self.namespaces.append(self.namespace(role))
            netns.create_namespace(self.namespace(role))
        netns.create_bridge(self.namespace("lan"))
        for port, role in enumerate(("rs", "members")):
            netns.attach(self.namespace(role), self.namespace("lan"), f"p{port}")
        for family, address in rs_addresses.items():
            netns.add_address(self.namespace("rs"), address, lan[family])

    def add_member_addresses(self, addresses: Mapping[str, str]) -> None:
        """Give the members' namespace every address (address -> its LAN prefix), in one go."""
        lines = []
        for address, prefix in sorted(addresses.items()):
            length = prefix.rpartition("/")[2]
            extra = " nodad" if ":" in address else ""
            lines.append(f"addr add {address}/{length} dev {netns.NODE_INTERFACE}{extra}")
        if lines:
            batch = _batch(self.directory / "addresses.batch", lines)
            netns.run(["ip", "-n", self.namespace("members"), "-batch", str(batch)], timeout=120)

    def route_server(self, config: str) -> BirdDaemon:
        """BIRD on ``config`` in the route server's namespace, answering on its socket."""
        daemon = BirdDaemon(
            namespace=self.namespace("rs"),
            config=self.directory / "rs.conf",
            socket=self.directory / "rs.ctl",
            pidfile=self.directory / "rs.pid",
            settings=self.settings,
        )
        daemon.config.write_text(config, encoding="utf-8")
        daemon.start(timeout=self.settings.bird_timeout_seconds)
        return daemon

    def start_speakers(self, speakers: Sequence[Speaker], rs_asn: int) -> None:
        """One BIRD per speaker in the members' namespace; each daemonizes once its
        configuration parses, so starting them does not wait for their sessions."""

        def start(speaker: Speaker) -> None:
            config = self.directory / f"{speaker.name}.conf"
            config.write_text(speaker_config(speaker, rs_asn), encoding="ascii")
            netns.run(
                [
                    self.settings.bird_path, "-c", str(config),
                    "-s", str(self.directory / f"{speaker.name}.ctl"),
                    "-P", str(self.directory / f"{speaker.name}.pid"),
                ],
                namespace=self.namespace("members"),
                timeout=self.settings.bird_timeout_seconds,
            )  # fmt: skip

        with ThreadPoolExecutor(max_workers=_START_WORKERS) as pool:
            list(pool.map(start, speakers))

    def remove(self) -> None:
        """Stop every daemon and delete the namespaces and files."""
        for name in reversed(self.namespaces):
            netns.delete_namespace(name)
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def scratch(settings: Settings) -> Iterator[Scratch]:
    """A scratch exchange, removed afterwards whatever happened (stale ones first)."""
    remove_stale()
    created = Scratch(settings)
    try:
        yield created
    finally:
        created.remove()


def _settled(protocol: ProtocolStatus | None, expected: int) -> bool:
    return (
        protocol is not None
        and protocol.established
        and protocol.imported + protocol.filtered >= expected
    )


def _by_neighbor(bird: BirdClient) -> dict[str, ProtocolStatus]:
    return {p.neighbor_address or "": p for p in member_sessions(bird.protocols())}


def wait_settled(
    bird: BirdClient, expected: Mapping[str, int], *, timeout: float, quiet: float
) -> dict[str, ProtocolStatus]:
    """The member sessions once each took in its ``expected`` routes (by member address).

    Stops early when the sessions still missing routes have not changed for
    ``quiet`` seconds (the new configuration refuses them, or a limit holds
    them back), and at ``timeout`` in any case.
    """
    deadline = time.monotonic() + timeout
    last: tuple[tuple[str, bool, int], ...] | None = None
    quiet_since = time.monotonic()
    while True:
        sessions = _by_neighbor(bird)
        pending = sorted(n for n, count in expected.items() if not _settled(sessions.get(n), count))
        now = time.monotonic()
        if not pending or now >= deadline:
            return sessions
        signature = tuple(
            (n, p.established, p.imported + p.filtered) if (p := sessions.get(n)) else (n, False, 0)
            for n in pending
        )
        if signature != last:
            last, quiet_since = signature, now
        elif now - quiet_since >= quiet:
            return sessions
        time.sleep(_POLL_SECONDS)


def read_verdicts(
    bird: BirdClient, sessions: Mapping[str, ProtocolStatus], rs_asn: int
) -> dict[tuple[str, str], Verdict]:
    """The scratch route server's verdict on every route it holds, by (member address, prefix).

    Accepted routes are read without their attributes (one line each instead of ten: most
    of the time the read takes); filtered ones with them, for their reject codes.
    """
    neighbor = {p.name: address for address, p in sessions.items()}
    verdicts: dict[tuple[str, str], Verdict] = {}
    for route in parse_routes(bird.command("show route")):
        address = neighbor.get(route.protocol)
        if address is not None:
            verdicts[(address, route.prefix)] = Verdict(True, ())
    for route in bird.routes("filtered"):
        address = neighbor.get(route.protocol)
        if address is not None:
            verdicts[(address, route.prefix)] = Verdict(False, tuple(reject_codes(route, rs_asn)))
    return verdicts
