"""BIRD 2's control-socket replies, and ``show protocols all`` / ``show route ... all`` read.

BIRD answers a command with lines of the form ``CODE-text`` (more follows) or
``CODE text`` (last line of a block); a line starting with a space continues
the previous code. Codes 0xxx end a successful reply, 8xxx (runtime error)
and 9xxx (parse error) end a failed one; 1xxx are table rows and 2xxx their
headings. The parsers work on those coded lines, not on ``birdc``'s screen
text, so they know a protocol row from a detail line without guessing.

Communities are kept as BIRD and ExaBGP write them in configs (``"a:b"``,
``"a:b:c"``), in BIRD's order, so they compare directly with what a member's
speaker announced or received.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ixp.errors import SourceUnavailable

REPLY_LINE = re.compile(r"^(\d{4})([ -])(.*)$")


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


def reply_text(lines: Iterable[ReplyLine]) -> str:
    """A reply as ``birdc`` prints it (without its greeting): the lines' text, codes dropped."""
    return "\n".join(line.text for line in lines).rstrip("\n")


# --- show protocols all -------------------------------------------------------------------

PROTOCOL_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(?P<info>.*?)\s*$"
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
    def established(self) -> bool:
        """True for a BGP session that is up (BIRD's info column says ``Established``)."""
        return self.bgp_state == "Established"

    @property
    def is_up(self) -> bool:
        """BGP: Established; other protocols: state up."""
        if self.bgp_state is not None:
            return self.established
        return self.state == "up"

    @property
    def imported(self) -> int:
        """Routes imported over all channels (the lab waits on the totals)."""
        return sum(channel.imported for channel in self.channels.values())

    @property
    def filtered(self) -> int:
        """Routes filtered over all channels."""
        return sum(channel.filtered for channel in self.channels.values())

    @property
    def exported(self) -> int:
        """Routes exported over all channels."""
        return sum(channel.exported for channel in self.channels.values())

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
# Any other row: a net of another type, then ``[protocol since ...]``.
OTHER_ROW = re.compile(r"^\S.*\s\[\S+ [^\]]*\]")
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
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()
    origin: str | None = None
    local_pref: int | None = None
    med: int | None = None


def _communities(value: str) -> tuple[str, ...]:
    """``(1,2) (3,4)`` or ``(1, 2, 3)`` as ``("1:2", "3:4")`` / ``("1:2:3",)``."""
    return tuple(
        ":".join(part.strip() for part in item.split(",")) for item in TUPLE.findall(value)
    )


def _route_attribute(route: BirdRoute, key: str, value: str) -> None:
    if key == "BGP.as_path":
        route.as_path = tuple(
            int(token) for token in value.replace("{", " ").replace("}", " ").split()
        )
    elif key == "BGP.next_hop":
        route.next_hop = value.split()[0]
    elif key == "BGP.community":
        route.communities = _communities(value)
    elif key == "BGP.large_community":
        route.large_communities = _communities(value)
    elif key == "BGP.origin":
        route.origin = value.lower()
    elif key == "BGP.local_pref":
        route.local_pref = int(value)
    elif key == "BGP.med":
        route.med = int(value)


def parse_routes(lines: Iterable[ReplyLine]) -> list[BirdRoute]:
    """Parse ``show route ... all`` (1007 route rows, 1008/1012 attribute lines).

    Only unicast routes are read: a row of another net type (a ROA table's
    ``prefix-maxlen ASN [...]``, shown when no table is named) is passed over
    with its attribute lines.
    """
    routes: list[BirdRoute] = []
    current: BirdRoute | None = None
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
                if current and len(via) >= 2 and via[0] == "via" and current.next_hop is None:
                    current.next_hop = via[1]
                continue
            if not text.strip():
                continue
            row = ROUTE_ROW.match(text)
            if row is None:
                if OTHER_ROW.match(text) is None:
                    raise SourceUnavailable(f"bird: cannot read route row {text!r}")
                current = None
                continue
            prefix = row.group("prefix") or prefix
            current = BirdRoute(
                table=table,
                prefix=prefix,
                protocol=row.group("proto"),
                primary=row.group("primary") is not None,
            )
            routes.append(current)
        elif line.code in (1008, 1012) and current:
            key, value = _key_value(text)
            _route_attribute(current, key, value)
    return routes
