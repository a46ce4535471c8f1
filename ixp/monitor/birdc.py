"""A client for BIRD 2's control socket, speaking its line protocol directly.

``birdc`` is only a terminal front end to the socket; the monitor talks to the
socket itself so it gets BIRD's reply codes instead of screen text. BIRD
answers a command with lines of the form ``CODE-text`` (more follows) or
``CODE text`` (last line of a block); a line starting with a space continues
the previous code. Codes 0xxx end a successful reply, 8xxx (runtime error)
and 9xxx (parse error) end a failed one; 1xxx are table rows and 2xxx their
headings. The greeting on connect is ``0001 BIRD <version> ready.``.

The parsers turn ``show protocols all`` and ``show route ... all`` into frozen
dataclasses, so the rest of the monitor never looks at BIRD's text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from ixp.errors import IxpError, SourceUnavailable

REPLY_LINE = re.compile(r"^(\d{4})([ -])(.*)$")


class BirdCommandError(IxpError):
    """BIRD refused a command (reply code 8xxx or 9xxx)."""

    def __init__(self, command: str, code: int, message: str) -> None:
        self.code = code
        super().__init__(f"bird command {command!r} failed: {code} {message}")


@dataclass(frozen=True, slots=True)
class ReplyLine:
    """One logical line of a reply: its code and text (continuation lines inherit the code)."""

    code: int
    text: str


def _is_final(code: int, separator: str) -> bool:
    return separator == " " and (code < 1000 or code >= 8000)


def parse_reply(raw_lines: Iterable[str]) -> Iterator[tuple[ReplyLine, bool]]:
    """Decode raw socket lines into (line, is_last) pairs."""
    code = 0
    for raw in raw_lines:
        match = REPLY_LINE.match(raw)
        if match:
            code = int(match.group(1))
            yield ReplyLine(code, match.group(3)), _is_final(code, match.group(2))
        elif raw.startswith(" "):
            yield ReplyLine(code, raw[1:]), False
        else:
            raise SourceUnavailable(f"bird socket: unexpected reply line {raw!r}")


class BirdClient:
    """One connection to a BIRD control socket; reconnects once if the socket was reset.

    Use as a context manager or call ``close``. Every failure to reach BIRD is
    a ``SourceUnavailable`` naming the socket, so callers can retry with backoff.
    """

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self.version: str | None = None
        self._sock: socket.socket | None = None
        self._reader: Iterator[str] | None = None

    def __enter__(self) -> BirdClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the socket and read BIRD's greeting."""
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise SourceUnavailable(f"bird socket {self.path}: {exc.strerror or exc}") from None
        self._sock = sock
        self._reader = self._lines(sock)
        greeting = self._read_reply("<connect>")
        self.version = greeting[0].text.removesuffix(" ready.").removeprefix("BIRD ")

    def close(self) -> None:
        """Close the socket if open."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        self._reader = None

    def _lines(self, sock: socket.socket) -> Iterator[str]:
        buffer = b""
        while True:
            try:
                chunk = sock.recv(262144)
            except OSError as exc:
                raise SourceUnavailable(f"bird socket {self.path}: {exc}") from None
            if not chunk:
                raise SourceUnavailable(f"bird socket {self.path}: closed by BIRD")
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", "replace")

    def _read_reply(self, command: str) -> list[ReplyLine]:
        assert self._reader is not None
        lines: list[ReplyLine] = []
        for line, last in parse_reply(self._reader):
            lines.append(line)
            if last:
                if line.code >= 8000:
                    raise BirdCommandError(command, line.code, line.text)
                return lines
        raise SourceUnavailable(f"bird socket {self.path}: reply ended early")

    def command(self, command: str) -> list[ReplyLine]:
        """Send one command and return its reply lines (the final status line included).

        A connection that broke since the last command (BIRD restarted) is
        reopened once; a second failure is raised as ``SourceUnavailable``.
        """
        if "\n" in command:
            raise ValueError("a BIRD command is one line")
        try:
            return self._send(command)
        except SourceUnavailable:
            return self._send(command)

    def _send(self, command: str) -> list[ReplyLine]:
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        try:
            self._sock.sendall(command.encode() + b"\n")
            return self._read_reply(command)
        except OSError as exc:
            self.close()
            raise SourceUnavailable(f"bird socket {self.path}: {exc}") from None
        except SourceUnavailable:
            self.close()
            raise

    def protocols(self) -> list[ProtocolStatus]:
        """``show protocols all``, parsed."""
        return parse_protocols(self.command("show protocols all"))

    def routes(self, args: str = "") -> list[BirdRoute]:
        """``show route <args> all``, parsed (``args`` e.g. ``"filtered protocol m64500"``)."""
        return parse_routes(self.command(f"show route {args} all".replace("  ", " ")))


# --- show protocols all -------------------------------------------------------------------

PROTOCOL_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(?P<info>.*)$"
)
ROUTE_COUNT = re.compile(r"(\d+) (imported|filtered|exported|preferred)")


@dataclass(slots=True)
class ChannelStatus:
    """One address family of a protocol: its state, route counts and import limit."""

    name: str
    state: str = ""
    imported: int = 0
    filtered: int = 0
    exported: int = 0
    preferred: int = 0
    import_limit: int | None = None
    limit_action: str | None = None


@dataclass(slots=True)
class ProtocolStatus:
    """One protocol of ``show protocols all`` (BGP sessions carry the neighbor fields)."""

    name: str
    proto: str
    table: str
    state: str
    since: str
    info: str
    description: str | None = None
    bgp_state: str | None = None
    neighbor_address: str | None = None
    neighbor_as: int | None = None
    local_as: int | None = None
    last_error: str | None = None
    channels: dict[str, ChannelStatus] = field(default_factory=dict)

    @property
    def is_up(self) -> bool:
        """BGP: Established; other protocols: state up."""
        if self.bgp_state is not None:
            return self.bgp_state == "Established"
        return self.state == "up"

    def since_at(self, today: dt.date | None = None) -> dt.datetime | None:
        """``since`` as a UTC datetime (BIRD prints a bare time for today, a date otherwise)."""
        return parse_bird_time(self.since, today)


def parse_bird_time(value: str, today: dt.date | None = None) -> dt.datetime | None:
    """Read BIRD's time formats: ``HH:MM:SS.fff``, ``YYYY-MM-DD`` and ISO long.

    BIRD prints local time; the monitor's hosts run in UTC, which is assumed.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    for pattern, with_date in (
        ("%Y-%m-%d %H:%M:%S.%f", True),
        ("%Y-%m-%d %H:%M:%S", True),
        ("%Y-%m-%d", True),
        ("%H:%M:%S.%f", False),
        ("%H:%M:%S", False),
    ):
        try:
            parsed = dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
        if not with_date:
            parsed = dt.datetime.combine(today, parsed.time())
        return parsed.replace(tzinfo=dt.UTC)
    return None


def _key_value(text: str) -> tuple[str, str]:
    key, _, value = text.strip().partition(":")
    return key.strip(), value.strip()


def parse_protocols(lines: Iterable[ReplyLine]) -> list[ProtocolStatus]:
    """Parse the reply of ``show protocols all`` (1002 rows, 1006 detail blocks)."""
    protocols: list[ProtocolStatus] = []
    channel: ChannelStatus | None = None
    for line in lines:
        if line.code == 1002:
            row = PROTOCOL_ROW.match(line.text)
            if row is None:
                raise SourceUnavailable(f"bird: cannot read protocol row {line.text!r}")
            protocols.append(ProtocolStatus(**row.groupdict()))
            channel = None
        elif line.code == 1006 and protocols and line.text.strip():
            current = protocols[-1]
            text = line.text.strip()
            if text.startswith("Channel "):
                channel = ChannelStatus(name=text.split()[1])
                current.channels[channel.name] = channel
                continue
            key, value = _key_value(text)
            if channel is None:
                _protocol_detail(current, key, value)
            else:
                _channel_detail(channel, key, value)
    return protocols


def _protocol_detail(protocol: ProtocolStatus, key: str, value: str) -> None:
    if key == "Description":
        protocol.description = value
    elif key == "BGP state":
        protocol.bgp_state = value
    elif key == "Neighbor address":
        protocol.neighbor_address = value.split("%")[0]
    elif key == "Neighbor AS":
        protocol.neighbor_as = int(value)
    elif key == "Local AS":
        protocol.local_as = int(value)
    elif key == "Last error":
        protocol.last_error = value


_CHANNEL_STATE_KEYS = {"State": "state", "Action": "limit_action"}


def _channel_detail(channel: ChannelStatus, key: str, value: str) -> None:
    if key in _CHANNEL_STATE_KEYS:
        setattr(channel, _CHANNEL_STATE_KEYS[key], value)
    elif key == "Routes":
        for number, kind in ROUTE_COUNT.findall(value):
            setattr(channel, kind, int(number))
    elif key == "Import limit":
        channel.import_limit = int(value.split()[0])


# --- show route ... all -------------------------------------------------------------------

ROUTE_ROW = re.compile(
    r"^(?P<prefix>\S+)?\s+(?P<kind>\w+) \[(?P<proto>\S+) (?P<since>[^\]]*?)"
    r"(?: from (?P<src>\S+))?\](?P<primary> \*)?"
)
TUPLE = re.compile(r"\(([\d, ]+)\)")


@dataclass(slots=True)
class BirdRoute:
    """One route as BIRD shows it, with its BGP attributes."""

    table: str
    prefix: str
    protocol: str
    primary: bool
    next_hop: str | None = None
    as_path: tuple[int, ...] = ()
    communities: tuple[tuple[int, int], ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()
    origin: str | None = None
    local_pref: int | None = None
    med: int | None = None


def _tuples(value: str) -> list[tuple[int, ...]]:
    return [tuple(int(part) for part in item.split(",")) for item in TUPLE.findall(value)]


def _route_attribute(route: BirdRoute, key: str, value: str) -> None:
    if key == "BGP.as_path":
        route.as_path = tuple(
            int(token) for token in value.replace("{", " ").replace("}", " ").split()
        )
    elif key == "BGP.next_hop":
        route.next_hop = value.split()[0]
    elif key == "BGP.community":
        route.communities = tuple(_tuples(value))  # type: ignore[arg-type]
    elif key == "BGP.large_community":
        route.large_communities = tuple(_tuples(value))  # type: ignore[arg-type]
    elif key == "BGP.origin":
        route.origin = value.lower()
    elif key == "BGP.local_pref":
        route.local_pref = int(value)
    elif key == "BGP.med":
        route.med = int(value)


def parse_routes(lines: Iterable[ReplyLine]) -> list[BirdRoute]:
    """Parse ``show route ... all`` (1007 route rows, 1008/1012 attribute lines)."""
    routes: list[BirdRoute] = []
    table = ""
    prefix = ""
    for line in lines:
        text = line.text
        if line.code == 1007:
            if text.startswith("Table "):
                table = text[6:].rstrip(":")
                continue
            if text.startswith("\t"):
                via = text.strip().split()
                if routes and len(via) >= 2 and via[0] == "via" and routes[-1].next_hop is None:
                    routes[-1].next_hop = via[1]
                continue
            if not text.strip():
                continue
            row = ROUTE_ROW.match(text)
            if row is None:
                raise SourceUnavailable(f"bird: cannot read route row {text!r}")
            prefix = row.group("prefix") or prefix
            routes.append(
                BirdRoute(
                    table=table,
                    prefix=prefix,
                    protocol=row.group("proto"),
                    primary=row.group("primary") is not None,
                )
            )
        elif line.code in (1008, 1012) and routes:
            key, value = _key_value(text)
            _route_attribute(routes[-1], key, value)
    return routes
