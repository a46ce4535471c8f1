"""A BIRD 2 daemon inside a lab namespace: start it on a config, wait for it, ask it things.

BIRD daemonizes after parsing its configuration, so a config error comes back
from :meth:`BirdDaemon.start` as a :class:`~ixp.lab.netns.LabError` with BIRD's
own message. Queries go through ``birdc -s SOCKET``: the control socket is a
file, reachable from the host namespace, so no query needs ``ip netns exec``.

:func:`parse_protocols` reads ``show protocols all`` into :class:`BgpProtocol`
records (state, neighbor, route counts); the lab uses them to wait for sessions
and for imports to settle instead of sleeping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ixp.lab.netns import LabError, run, stop_pids, wait_until
from ixp.settings import Settings

# AF_UNIX paths are limited to 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class BgpProtocol:
    """One BGP protocol of ``show protocols all``, with the counts of each of its channels."""

    name: str
    state: str
    info: str
    neighbor_address: str | None
    neighbor_as: int | None
    imported: int
    filtered: int
    exported: int

    @property
    def established(self) -> bool:
        """True once the BGP session is up."""
        return self.info.startswith("Established")


_HEADER = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+(?:\s\S+)?)\s*(.*)$")
_ROUTES = re.compile(r"Routes:\s+(\d+) imported,(?:\s+(\d+) filtered,)?\s+(\d+) exported")


def _blocks(text: str) -> list[list[str]]:
    """Split ``show protocols all`` into one list of lines per protocol (header first)."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace():
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line.strip())
    return blocks


def _parse_block(lines: list[str]) -> BgpProtocol | None:
    header = _HEADER.match(lines[0])
    if header is None or header.group(2) != "BGP":
        return None
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    address = fields.get("Neighbor address")
    neighbor_as = fields.get("Neighbor AS")
    counts = [_ROUTES.search(line) for line in lines[1:]]
    found = [match for match in counts if match]
    return BgpProtocol(
        name=header.group(1),
        state=header.group(4),
        info=header.group(6).strip(),
        neighbor_address=address.strip().split("%")[0] if address else None,
        neighbor_as=int(neighbor_as) if neighbor_as else None,
        imported=sum(int(m.group(1)) for m in found),
        filtered=sum(int(m.group(2) or 0) for m in found),
        exported=sum(int(m.group(3)) for m in found),
    )


def parse_protocols(text: str) -> list[BgpProtocol]:
    """Parse the output of ``birdc show protocols all`` into its BGP protocols."""
    parsed = (_parse_block(block) for block in _blocks(text))
    return [protocol for protocol in parsed if protocol is not None]


@dataclass(frozen=True)
class BirdRoute:
    """One path of ``show route ... all``: its protocol and the BGP attributes tests check."""

    prefix: str
    protocol: str
    primary: bool
    as_path: tuple[int, ...] = ()
    next_hop: str | None = None
    local_pref: int | None = None
    communities: frozenset[str] = frozenset()
    large_communities: frozenset[str] = frozenset()


_ROUTE_HEADER = re.compile(
    r"^(?P<prefix>\S+)?\s+(?P<kind>[a-z]+) \[(?P<protocol>[^\s\]]+)[^\]]*\](?P<rest>.*)$"
)
_TUPLE = re.compile(r"\(([\d\s,]+)\)")


def _tuples(text: str) -> frozenset[str]:
    """``(1,2) (3,4)`` or ``(1, 2, 3)`` as ``{"1:2", "3:4"}`` / ``{"1:2:3"}``."""
    return frozenset(":".join(p.strip() for p in m.split(",")) for m in _TUPLE.findall(text))


def _route(prefix: str, header: re.Match[str], lines: list[str]) -> BirdRoute:
    attributes = dict(
        (key.strip(), value.strip())
        for key, value in (line.split(":", 1) for line in lines if ":" in line)
    )
    next_hop = attributes.get("BGP.next_hop", "").split()
    local_pref = attributes.get("BGP.local_pref")
    return BirdRoute(
        prefix=prefix,
        protocol=header.group("protocol"),
        primary=header.group("rest").lstrip().startswith("*"),
        as_path=tuple(int(a) for a in re.findall(r"\d+", attributes.get("BGP.as_path", ""))),
        next_hop=next_hop[0] if next_hop else None,
        local_pref=int(local_pref) if local_pref else None,
        communities=_tuples(attributes.get("BGP.community", "")),
        large_communities=_tuples(attributes.get("BGP.large_community", "")),
    )


def parse_routes(text: str) -> list[BirdRoute]:
    """Parse ``birdc show route [filtered] all`` into routes (every path of a prefix, in order)."""
    blocks: list[tuple[str, re.Match[str], list[str]]] = []
    prefix = ""
    for line in text.splitlines():
        header = None if line.startswith("Table ") else _ROUTE_HEADER.match(line)
        if header:
            prefix = header.group("prefix") or prefix
            blocks.append((prefix, header, []))
        elif blocks:
            blocks[-1][2].append(line)
    return [_route(*block) for block in blocks]


@dataclass
class BirdDaemon:
    """One BIRD process in ``namespace`` running ``config``, controlled through ``socket``."""

    namespace: str
    config: Path
    socket: Path
    pidfile: Path
    settings: Settings

    def __post_init__(self) -> None:
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise LabError(
                f"control socket path {str(self.socket)!r} is longer than {MAX_SOCKET_PATH} "
                "bytes; use a shorter settings home"
            )

    def start(self, timeout: float = 10.0) -> None:
        """Start BIRD and wait until it answers on its control socket."""
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        run(
            [
                self.settings.bird_path, "-c", str(self.config),
                "-s", str(self.socket), "-P", str(self.pidfile),
            ],
            namespace=self.namespace,
            timeout=self.settings.bird_timeout_seconds,
        )  # fmt: skip
        wait_until(self.ready, timeout=timeout, what=f"BIRD on {self.socket}")

    def ready(self) -> bool:
        """True if BIRD answers ``show status`` as up and running."""
        if not self.socket.exists():
            return False
        result = run(
            [self.settings.birdc_path, "-s", str(self.socket), "show", "status"],
            check=False,
            timeout=5.0,
        )
        return "Daemon is up and running" in result.stdout

    def pid(self) -> int | None:
        """BIRD's process id from its pid file, if it has one."""
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop BIRD (if running) and remove its socket and pid file."""
        pid = self.pid()
        if pid is not None:
            stop_pids([pid])
        self.socket.unlink(missing_ok=True)
        self.pidfile.unlink(missing_ok=True)

    def birdc(self, command: str, timeout: float = 10.0) -> str:
        """Run one birdc command and return BIRD's answer without the greeting line."""
        result = run(
            [self.settings.birdc_path, "-s", str(self.socket), *command.split()], timeout=timeout
        )
        lines = result.stdout.splitlines()
        if lines and lines[0].startswith("BIRD ") and lines[0].endswith("ready."):
            lines = lines[1:]
        return "\n".join(lines)

    def configure(self) -> str:
        """Make BIRD re-read its config file (``configure``); return BIRD's answer."""
        answer = self.birdc("configure")
        if "Reconfigured" not in answer and "Reconfiguration in progress" not in answer:
            raise LabError(f"BIRD on {self.socket} refused its new config: {answer.strip()}")
        return answer

    def protocols(self) -> list[BgpProtocol]:
        """The BGP protocols and their state."""
        return parse_protocols(self.birdc("show protocols all"))

    def routes(self, arguments: str = "") -> list[BirdRoute]:
        """``show route <arguments> all`` parsed, e.g. ``routes("filtered")``."""
        return parse_routes(self.birdc(f"show route {arguments} all"))
