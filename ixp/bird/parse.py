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

An AS path keeps the ASNs of its AS_SEQUENCE and AS_SET segments in order and
leaves out confederation segments (BIRD's ``(65000 65001)`` and ``({...})``):
those are the sub-ASes inside a member's confederation, which the rest of the
world, and BGP's path length, never sees, so the first ASN stays the member
and the last the origin. BIRD cuts a path longer than its 500-character line
buffer with ``...``; such a route says so (``as_path_truncated``), because its
last ASN is then not the origin.

Text BIRD cannot have written (a word where a number belongs, a cut-off row)
raises ``UnreadableOutput``, a ``SourceUnavailable``: the one error a caller
has to expect from these parsers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ixp.errors import SourceUnavailable
from ixp.rs.codes import RPKI_ATTRIBUTE, RpkiTag

_SEPARATORS = ("-", " ")
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF


class UnreadableOutput(SourceUnavailable):
    """BIRD's reply holds text the parser cannot read; names what and quotes the text."""

    def __init__(self, what: str, text: str) -> None:
        self.what = what
        self.text = text
        super().__init__(f"bird: cannot read {what} {text[:200]!r}")


def _number(what: str, text: str, maximum: int = _U32) -> int:
    """An unsigned decimal as BIRD prints it (ASCII digits, within BGP's range)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= maximum):
        raise UnreadableOutput(what, text)
    return int(text)


@dataclass(frozen=True, slots=True)
class ReplyLine:
    """One logical line of a reply: its code and text (continuation lines inherit the code)."""

    code: int
    text: str


def _is_final(code: int, separator: str) -> bool:
    return separator == " " and (code < 1000 or code >= 8000)


def parse_reply(raw_lines: Iterable[str]) -> Iterator[tuple[ReplyLine, bool]]:
    """Decode raw socket lines into (line, is_last) pairs.

    A coded line is four ASCII digits and a separator; they are checked by
    slicing rather than with a regular expression, as a large answer has
    hundreds of thousands of lines.
    """
    code = 0
    for raw in raw_lines:
        if raw[:1] == " ":
            yield ReplyLine(code, raw[1:]), False
            continue
        digits, separator = raw[:4], raw[4:5]
        if separator not in _SEPARATORS or not (digits.isascii() and digits.isdigit()):
            raise UnreadableOutput("reply line", raw)
        code = int(digits)
        yield ReplyLine(code, raw[5:]), _is_final(code, separator)


def reply_text(lines: Iterable[ReplyLine]) -> str:
    """A reply as ``birdc`` prints it (without its greeting): the lines' text, codes dropped."""
    return "\n".join(line.text for line in lines).rstrip("\n")


# --- show protocols all -------------------------------------------------------------------

PROTOCOL_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(?P<info>.*?)\s*$"
)
ROUTE_COUNT = re.compile(r"([0-9]+) (imported|filtered|exported|preferred)")


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
    route_changes: dict[str, dict[str, int]] = field(default_factory=dict)
    """``Route change stats`` by row (``import_updates`` ...) and column (``received`` ...);
    a column BIRD shows as ``---`` (not kept for that row) is left out."""


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


# BIRD's time formats (and whether they carry a date) by (has "-", has "."): a "-" occurs only in
# the date and a "." only before the fraction, so the formats of one key are the only ones that
# can match a text with those characters. strptime is slow and a route answer holds a time per
# route, so only those are tried.
_TIME_FORMATS: dict[tuple[bool, bool], tuple[tuple[str, bool], ...]] = {
    (True, True): (("%Y-%m-%d %H:%M:%S.%f", True),),
    (True, False): (("%Y-%m-%d %H:%M:%S", True), ("%Y-%m-%d", True)),
    (False, True): (("%H:%M:%S.%f", False),),
    (False, False): (("%H:%M:%S", False),),
}


def parse_bird_time(value: str, today: dt.date | None = None) -> dt.datetime | None:
    """Read BIRD's time formats: ``HH:MM:SS.fff``, ``YYYY-MM-DD`` and ISO long.

    BIRD prints local time; the monitor's hosts run in UTC, which is assumed.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    for pattern, with_date in _TIME_FORMATS["-" in value, "." in value]:
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
                raise UnreadableOutput("protocol row", line.text)
            fields: dict[str, Any] = row.groupdict()
            protocols.append(ProtocolStatus(**fields))
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
        protocol.neighbor_as = _number(key, value)
    elif key == "Local AS":
        protocol.local_as = _number(key, value)
    elif key == "Last error":
        protocol.last_error = value


_CHANNEL_STATE_KEYS = {"State": "state", "Action": "limit_action"}
_CHANGE_ROWS = ("Import updates", "Import withdraws", "Export updates", "Export withdraws")
_CHANGE_COLUMNS = ("received", "rejected", "filtered", "ignored", "accepted")


def _channel_detail(channel: ChannelStatus, key: str, value: str) -> None:
    if key in _CHANNEL_STATE_KEYS:
        setattr(channel, _CHANNEL_STATE_KEYS[key], value)
    elif key == "Routes":
        for number, kind in ROUTE_COUNT.findall(value):
            setattr(channel, kind, _number(f"{kind} routes", number))
    elif key == "Import limit":
        channel.import_limit = _number(key, _first_word(value))
    elif key in _CHANGE_ROWS:
        row = key.lower().replace(" ", "_")
        channel.route_changes[row] = {
            column: _number(key, number)
            for column, number in zip(_CHANGE_COLUMNS, value.split(), strict=False)
            if number != "---"
        }


# --- show status -------------------------------------------------------------------------

_STATUS_LINES = {
    "Router ID is ": "router_id",
    "Current server time is ": "server_time",
    "Last reboot on ": "last_reboot",
    "Last reconfiguration on ": "last_reconfig",
}


@dataclass(slots=True)
class BirdStatus:
    """``show status``: BIRD's version, router id, its times as printed, and its state line."""

    version: str = ""
    router_id: str = ""
    server_time: str = ""
    last_reboot: str = ""
    last_reconfig: str = ""
    message: str = ""

    def last_reboot_at(self) -> dt.datetime | None:
        """When BIRD started, as a UTC datetime (None if BIRD did not say)."""
        return parse_bird_time(self.last_reboot)


def parse_status(lines: Iterable[ReplyLine]) -> BirdStatus:
    """Parse ``show status`` (1000 version, 1011 details, the final line BIRD's state)."""
    status = BirdStatus()
    for line in lines:
        if line.code == 1000:
            status.version = line.text.removeprefix("BIRD ").strip()
        elif line.code == 1011:
            for start, name in _STATUS_LINES.items():
                if line.text.startswith(start):
                    setattr(status, name, line.text.removeprefix(start).strip())
        elif line.code < 1000:
            status.message = line.text.strip()
    return status


# --- show route ... all -------------------------------------------------------------------

ROUTE_ROW = re.compile(
    r"^(?P<prefix>\S+)?\s+(?P<kind>\w+) \[(?P<proto>\S+) (?P<since>[^\]]*?)"
    r"(?: from (?P<src>\S+))?\](?P<primary> \*)?(?: \((?P<preference>[0-9]{1,5})[^)]*\))?"
)
# Any other row: a net of another type, then ``[protocol since ...]``.
OTHER_ROW = re.compile(r"^\S.*\s\[\S+ [^\]]*\]")
TUPLE = re.compile(r"\(([^()]*)\)")
# An AS path's tokens: the brackets of its segments and what stands between them.
AS_PATH_TOKEN = re.compile(r"\(\{|\}\)|[(){}]|[^\s(){}]+")
# Opening bracket -> (closing bracket, whether the segment is a confederation segment).
_SEGMENTS = {"{": ("}", False), "(": (")", True), "({": ("})", True)}


@dataclass(slots=True)
class BirdRoute:
    """One route as BIRD shows it, with its BGP attributes."""

    table: str
    prefix: str
    protocol: str
    primary: bool
    next_hop: str | None = None
    as_path: tuple[int, ...] = ()
    as_path_truncated: bool = False
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()
    origin: str | None = None
    local_pref: int | None = None
    med: int | None = None
    since: str = ""
    kind: str = ""
    source: str | None = None
    preference: int | None = None
    gateway: str | None = None
    interface: str | None = None
    route_type: tuple[str, ...] = ()
    ext_communities: tuple[tuple[str, str, str], ...] = ()
    rpki: RpkiTag | None = None
    """The route server's RPKI state of an accepted route (``codes.RPKI_ATTRIBUTE``)."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Every ``BGP.*`` attribute as BIRD printed it, keyed without ``BGP.`` (a looking glass
    passes them on as text, like birdwatcher)."""


def _first_word(value: str) -> str:
    """The first word of a value (``""`` for none): a next hop or limit followed by more."""
    words = value.split(maxsplit=1)
    return words[0] if words else ""


# Routes share their attributes' text (a member's communities, the paths through one
# customer), so the readings of the last few thousand distinct values are kept: each value
# is then read once per answer, not once per route. The functions are pure.
_READINGS_KEPT = 4096


@functools.lru_cache(maxsize=_READINGS_KEPT)
def _communities(what: str, value: str) -> tuple[str, ...]:
    """``(1,2) (3,4)`` or ``(1, 2, 3)`` as ``("1:2", "3:4")`` / ``("1:2:3",)``.

    BIRD ends a list too long for its line with `` ...``; the communities shown are kept.
    """
    communities = []
    for item in TUPLE.findall(value):
        parts = [part.strip() for part in item.split(",")]
        if len(parts) not in (2, 3):
            raise UnreadableOutput(what, value)
        maximum = _U16 if len(parts) == 2 else _U32
        communities.append(":".join(str(_number(what, part, maximum)) for part in parts))
    return tuple(communities)


def parse_as_path(text: str) -> tuple[tuple[int, ...], bool]:
    """(ASNs outside confederation segments, in order; whether BIRD cut the path short).

    BIRD writes a sequence as bare numbers, a set as ``{1 2}``, a confederation
    sequence as ``(1 2)`` and a confederation set as ``({1 2})``. A path cut
    with ``...`` may end in a partly printed number or the ``}`` of a ``})``;
    both are dropped (a segment left open by the cut adds nothing after it).
    """
    truncated = text.endswith("...")
    shown = text[:-3].rstrip("0123456789").removesuffix("}") if truncated else text
    path: list[int] = []
    closing: str | None = None
    confederation = False
    for token in AS_PATH_TOKEN.findall(shown):
        if token in _SEGMENTS and closing is None:
            closing, confederation = _SEGMENTS[token]
        elif token == closing:
            closing, confederation = None, False
        elif token[0] in "(){}":
            raise UnreadableOutput("BGP.as_path", text)
        elif confederation:
            _number("BGP.as_path", token)
        else:
            path.append(_number("BGP.as_path", token))
    if closing is not None and not truncated:
        raise UnreadableOutput("BGP.as_path", text)
    return tuple(path), truncated


@functools.lru_cache(maxsize=_READINGS_KEPT)
def _ext_communities(value: str) -> tuple[tuple[str, str, str], ...]:
    """``(rt, 1, 2) (ro, 192.0.2.1, 3)`` as three-part tuples of BIRD's text.

    An extended community BIRD writes in another form (``(generic, 0x...)``) is
    left out, as birdwatcher does.
    """
    kept = []
    for item in TUPLE.findall(value):
        parts = [part.strip() for part in item.split(",")]
        if len(parts) == 3:
            kept.append((parts[0], parts[1], parts[2]))
    return tuple(kept)


_as_path = functools.lru_cache(maxsize=_READINGS_KEPT)(parse_as_path)


def _route_attribute(route: BirdRoute, key: str, value: str) -> None:
    if key.startswith("BGP."):
        route.attributes[key.removeprefix("BGP.")] = value
    if key == "Type":
        route.route_type = tuple(value.split())
    elif key == "BGP.ext_community":
        route.ext_communities = _ext_communities(value)
    elif key == "BGP.as_path":
        route.as_path, route.as_path_truncated = _as_path(value)
    elif key == "BGP.next_hop":
        route.next_hop = _first_word(value)
        if not route.next_hop:
            raise UnreadableOutput(key, value)
    elif key == "BGP.community":
        route.communities = _communities(key, value)
    elif key == "BGP.large_community":
        route.large_communities = _communities(key, value)
    elif key == "BGP.origin":
        route.origin = value.lower()
    elif key == "BGP.local_pref":
        route.local_pref = _number(key, value)
    elif key == "BGP.med":
        route.med = _number(key, value)
    elif key == RPKI_ATTRIBUTE:
        try:
            route.rpki = RpkiTag(_number(key, value))
        except ValueError:
            raise UnreadableOutput(key, value) from None


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
                if current and len(via) >= 2 and via[0] == "via":
                    current.gateway = via[1]
                    current.interface = via[3] if len(via) >= 4 and via[2] == "on" else None
                    current.next_hop = current.next_hop or via[1]
                continue
            if not text.strip():
                continue
            row = ROUTE_ROW.match(text)
            if row is None:
                if OTHER_ROW.match(text) is None:
                    raise UnreadableOutput("route row", text)
                current = None
                continue
            prefix = row.group("prefix") or prefix
            preference = row.group("preference")
            current = BirdRoute(
                table=table,
                prefix=prefix,
                protocol=row.group("proto"),
                primary=row.group("primary") is not None,
                since=row.group("since"),
                kind=row.group("kind"),
                source=row.group("src"),
                preference=int(preference) if preference is not None else None,
            )
            routes.append(current)
        elif line.code in (1008, 1012) and current:
            key, value = _key_value(text)
            _route_attribute(current, key, value)
    return routes
