"""What the next ``ixp rs build`` would change, member by member, before anyone builds or pushes.

The comparison is between two configurations, not two databases: the one last
published (the files of the newest successful build, ``<out>/<rs>.conf``) and
the one a build would publish now (``build_context`` then ``render``, exactly as
``ixp.rs.build`` does, without the ``bird -p`` check or any file written). Both
are read back by the same small reader of BIRD's own syntax, so whatever the
templates look like, the preview shows what would change in the text BIRD loads:

* a member's ``define AS<asn>_...`` sets (its filter's prefixes, its origin
  ASNs, anything else kept per member), element by element: ``PREFIXES_V4``
  gains ``45.22.0.0/24{24,24}``;
* its ``protocol bgp`` sessions (those whose ``neighbor ... as <asn>`` names it):
  added, removed, or changed, with the lines that differ (``import limit 100
  action restart;`` becomes ``import limit 200 ...``).

Members with nothing changed are counted, not listed. Reading the configuration
rather than the database means the preview also shows what a template change
would do to every session; and a member with no published configuration yet (a
first build, or a newly onboarded member) shows as added in full.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from ixp.errors import SourceUnavailable
from ixp.exchange import get_exchange
from ixp.rs import history
from ixp.rs.context import build_context, load_roas
from ixp.rs.render import render
from ixp.rs.types import COLLECTOR_PROTOCOL_PREFIX
from ixp.settings import Settings

# Strings are kept whole (a member's name in a description may hold '#', '{' or '}');
# comments, '#' to the end of the line and '/* ... */', are dropped.
_STRING_OR_COMMENT = re.compile(r'"[^"\n]*"|#[^\n]*|/\*.*?\*/', re.S)
_MEMBER_DEFINE = re.compile(r"\bdefine\s+AS(\d+)_(\w+)\s*=\s*([^;]*);")
_BGP_PROTOCOL = re.compile(r"\bprotocol\s+bgp\s+(\w+)[^{;]*\{")
_STRING_OR_BRACE = re.compile(r'"[^"\n]*"|[{}]')
_NEIGHBOR = re.compile(r"\bneighbor\s+(\S+)\s+as\s+(\d+)\s*;")
# Commas that separate the elements of a set, not those inside a pattern's {low,high}.
_ELEMENT_COMMA = re.compile(r",(?![^{]*\})")

# How the sets every member has are named for people; others by their own name.
_SET_LABELS = {
    "PREFIXES_V4": "IPv4 prefixes in its filter",
    "PREFIXES_V6": "IPv6 prefixes in its filter",
    "ORIGINS": "origin ASNs",
    "BLACKHOLE_V4": "IPv4 blackhole prefixes",
    "BLACKHOLE_V6": "IPv6 blackhole prefixes",
}


@dataclass(frozen=True)
class ConfiguredSession:
    """A member's BGP session as a configuration has it: its lines, comments left out."""

    name: str
    neighbor: str
    lines: tuple[str, ...]


@dataclass
class ConfiguredMember:
    """A member as one configuration has it: its sets by name and its sessions by name."""

    asn: int
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sessions: dict[str, ConfiguredSession] = field(default_factory=dict)


def _without_comments(text: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda m: m.group() if m.group()[0] == '"' else "", text)


def _elements(value: str) -> tuple[str, ...]:
    """The elements of a set literal (``[a, b{1,2}]``), or the value itself as one."""
    value = " ".join(value.split())
    if not (value.startswith("[") and value.endswith("]")):
        return (value,)
    inner = value[1:-1].strip()
    return tuple(part.strip() for part in _ELEMENT_COMMA.split(inner)) if inner else ()


def _block_end(text: str, start: int) -> int:
    """The index just past the ``}`` closing the block whose ``{`` is before ``start``."""
    depth = 1
    for match in _STRING_OR_BRACE.finditer(text, start):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.end()
    raise SourceUnavailable("the configuration ends inside a protocol block (cut short?)")


def _bgp_sessions(text: str) -> Iterator[tuple[int, ConfiguredSession]]:
    position = 0
    while (found := _BGP_PROTOCOL.search(text, position)) is not None:
        end = _block_end(text, found.end())
        position = end
        name = found.group(1)
        body = text[found.end() : end - 1]
        neighbor = _NEIGHBOR.search(body)
        if neighbor is None or name.startswith(COLLECTOR_PROTOCOL_PREFIX):
            continue
        lines = tuple(line.strip() for line in body.splitlines() if line.strip())
        yield int(neighbor.group(2)), ConfiguredSession(name, neighbor.group(1), lines)


def configured_members(text: str) -> dict[int, ConfiguredMember]:
    """Every member a BIRD configuration configures, by ASN: its ``AS<asn>_*`` sets and the
    BGP sessions with it (collector sessions are not members')."""
    plain = _without_comments(text)
    members: dict[int, ConfiguredMember] = {}
    for found in _MEMBER_DEFINE.finditer(plain):
        asn = int(found.group(1))
        member = members.setdefault(asn, ConfiguredMember(asn))
        member.sets[found.group(2)] = _elements(found.group(3))
    for asn, configured in _bgp_sessions(plain):
        members.setdefault(asn, ConfiguredMember(asn)).sessions[configured.name] = configured
    return members


class Change(enum.StrEnum):
    """What happens to a member or a session in the next build."""

    added = "added"
    removed = "removed"
    changed = "changed"


@dataclass(frozen=True)
class SetChange:
    """Elements a build adds to and removes from one of a member's sets."""

    name: str
    label: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class SessionChange:
    """A session the build adds, removes or changes; ``before``/``after`` are the lines
    that differ (all of them for an added or removed session)."""

    name: str
    neighbor: str
    change: Change
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class MemberChange:
    """What the build changes for one member on one route server; ``note`` says why a
    member goes (the build leaves it out: suspended, no enabled session)."""

    asn: int
    name: str
    change: Change
    sets: tuple[SetChange, ...]
    sessions: tuple[SessionChange, ...]
    note: str | None = None

    @property
    def prefixes_added(self) -> int:
        """Filter prefixes gained, both families."""
        return sum(len(s.added) for s in self.sets if s.name.startswith("PREFIXES_"))

    @property
    def prefixes_removed(self) -> int:
        """Filter prefixes lost, both families."""
        return sum(len(s.removed) for s in self.sets if s.name.startswith("PREFIXES_"))


@dataclass(frozen=True)
class RsPreview:
    """One route server: the published file compared (None: none yet), each member that
    changes, and how many stay as they are."""

    rs_name: str
    published: str | None
    members: tuple[MemberChange, ...]
    unchanged: int


@dataclass(frozen=True)
class BuildPreview:
    """What the next build changes on every route server, and which build it compares with
    (None: no successful build yet)."""

    compared_with: int | None
    servers: tuple[RsPreview, ...]

    @property
    def changes(self) -> int:
        """Member changes over every route server."""
        return sum(len(rs.members) for rs in self.servers)


def _set_order(name: str) -> tuple[int, str]:
    """The filter's prefixes first, then the origins, then any other set by name."""
    known = list(_SET_LABELS)
    return (known.index(name), "") if name in known else (len(known), name)


def _label(name: str) -> str:
    return _SET_LABELS.get(name, name.replace("_", " ").lower())


def _set_changes(
    old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]]
) -> list[SetChange]:
    changes = []
    for name in sorted(old.keys() | new.keys(), key=_set_order):
        before, after = old.get(name, ()), new.get(name, ())
        kept_before, kept_after = set(before), set(after)
        added = tuple(e for e in after if e not in kept_before)
        removed = tuple(e for e in before if e not in kept_after)
        if added or removed:
            changes.append(SetChange(name, _label(name), added, removed))
    return changes


def _session_changes(
    old: Mapping[str, ConfiguredSession], new: Mapping[str, ConfiguredSession]
) -> list[SessionChange]:
    changes = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            changes.append(SessionChange(name, after.neighbor, Change.added, (), after.lines))
        elif after is None and before is not None:
            changes.append(SessionChange(name, before.neighbor, Change.removed, before.lines, ()))
        elif before is not None and after is not None and before.lines != after.lines:
            gone = tuple(line for line in before.lines if line not in after.lines)
            came = tuple(line for line in after.lines if line not in before.lines)
            changes.append(SessionChange(name, after.neighbor, Change.changed, gone, came))
    return changes


def compare(
    published: Mapping[int, ConfiguredMember],
    upcoming: Mapping[int, ConfiguredMember],
    names: Mapping[int, str],
    notes: Mapping[int, str] | None = None,
) -> tuple[list[MemberChange], int]:
    """The members that change between two configurations (by ASN), and how many do not.

    ``names`` names members for people; ``notes`` says why a member is left out of
    the upcoming configuration.
    """
    changes: list[MemberChange] = []
    unchanged = 0
    empty = ConfiguredMember(0)
    for asn in sorted(published.keys() | upcoming.keys()):
        old, new = published.get(asn, empty), upcoming.get(asn, empty)
        sets = _set_changes(old.sets, new.sets)
        sessions = _session_changes(old.sessions, new.sessions)
        if not sets and not sessions:
            unchanged += 1
            continue
        kind = (
            Change.added
            if asn not in published
            else Change.removed
            if asn not in upcoming
            else Change.changed
        )
        note = (notes or {}).get(asn) if kind is Change.removed else None
        changes.append(
            MemberChange(asn, names.get(asn, f"AS{asn}"), kind, tuple(sets), tuple(sessions), note)
        )
    return changes, unchanged


def _published_dir(session: Session, settings: Settings) -> tuple[int | None, Path]:
    """The newest successful build and where it published; before any, the default place."""
    offset = 0
    while True:
        builds, total = history.list_builds(session, limit=20, offset=offset)
        for build in builds:
            if build.ok:
                detail = history.show_build(session, build.id, only_asn=-1)
                if detail.out_dir is not None:
                    return build.id, Path(detail.out_dir)
        offset += len(builds)
        if not builds or offset >= total:
            return None, history.default_out_dir(settings)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceUnavailable(
            f"the published configuration {path} cannot be read: {exc}"
        ) from None


def preview(session: Session, settings: Settings, *, only_asn: int | None = None) -> BuildPreview:
    """What the next build would change on each route server of the exchange, compared
    with the newest successful build's files. ``only_asn`` keeps that member alone."""
    exchange = get_exchange(session)
    build_id, out_dir = _published_dir(session, settings)
    roas = None if settings.rpki_rtr_host else load_roas(session)
    servers = []
    for rs in exchange.route_servers:
        context = build_context(session, rs, settings, roas).context
        names = {m.asn: m.display_name for m in context.members}
        names |= {e.asn: e.display_name for e in context.excluded}
        notes = {e.asn: e.reason for e in context.excluded}
        upcoming = configured_members(render(context).text)
        path = out_dir / f"{rs.name}.conf"
        text = _read(path)
        published = configured_members(text) if text is not None else {}
        if only_asn is not None:
            upcoming = {a: m for a, m in upcoming.items() if a == only_asn}
            published = {a: m for a, m in published.items() if a == only_asn}
        changes, unchanged = compare(published, upcoming, names, notes)
        servers.append(
            RsPreview(rs.name, str(path) if text is not None else None, tuple(changes), unchanged)
        )
    return BuildPreview(build_id, tuple(servers))
