"""The two registry sources behind one interface: bgpq4 against a server, or local dumps.

A source turns a member's AS-SETs into ASNs and prefix lists or raises an
``IxpError`` saying why it could not; it never returns a partial or empty
answer for a failure, because the caller keeps the last good data on failure
and would otherwise store the damage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ixp import proc
from ixp.errors import SourceUnavailable
from ixp.irr import bgpq4
from ixp.irr.expand import expand_as_set
from ixp.irr.index import Registry, open_registry
from ixp.irr.prefixes import aggregate, max_length_for, split_too_short
from ixp.irr.rpsl import parse_asn
from ixp.irr.types import PrefixEntry
from ixp.settings import Settings


@dataclass(frozen=True)
class Fetched:
    """A member's registry data as one source answered.

    ``ignored`` lists registered prefixes left out because they are shorter than
    the route server's minimum length; ``doubts`` are reasons not to trust the
    answer as it is (a dump cut short): changed data with doubts waits for an
    operator.
    """

    asns: tuple[int, ...]
    v4: tuple[PrefixEntry, ...]
    v6: tuple[PrefixEntry, ...]
    notes: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()


class _Filter:
    """The last step of every source: drop too-short objects, allow more-specifics, aggregate.

    Both sources hand it the registered prefixes exactly as registered, so the
    same code decides every filter. (bgpq4's own ``-R`` is not used: it drops
    every prefix covered by a shorter one, so a single default-route object
    would leave nothing but itself to inspect.) Kept per fetch so the dropped
    prefixes can be reported with the member.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ignored: list[str] = []

    def entries(self, family: int, pairs: Iterable[tuple[str, int]]) -> tuple[PrefixEntry, ...]:
        """``pairs`` of ``family`` as a filter's entries, without objects too short to use."""
        kept, dropped = split_too_short(pairs, _min_lengths(self.settings)[family])
        self.ignored.extend(dropped)
        limit = _limits(self.settings)[family]
        return aggregate(family, [(p, max_length_for(m, limit)) for p, m in kept])

    def notes(self) -> tuple[str, ...]:
        """A remark naming what was dropped, if anything."""
        if not self.ignored:
            return ()
        listed = ", ".join(self.ignored[:5]) + (", ..." if len(self.ignored) > 5 else "")
        return (
            f"ignored {len(self.ignored)} route object(s) shorter than the route server's "
            f"minimum prefix length: {listed}",
        )


class IrrSource(Protocol):
    """Anything that can expand a member's per-family AS-SETs.

    ``workers`` is how many members may be fetched at once: bgpq4 waits on the
    network in its own process, so a few run in parallel; the dump source is
    CPU-bound Python on one SQLite connection, so it runs alone.
    """

    description: str
    workers: int

    def fetch(self, object_v4: str, object_v6: str) -> Fetched: ...

    def close(self) -> None: ...


def _limits(settings: Settings) -> dict[int, int]:
    return {4: settings.rs_max_prefix_length_v4, 6: settings.rs_max_prefix_length_v6}


def _min_lengths(settings: Settings) -> dict[int, int]:
    return {4: settings.rs_min_prefix_length_v4, 6: settings.rs_min_prefix_length_v6}


class DumpSource:
    """Local RPSL dumps, indexed once under ``<home>/irr/`` and expanded in process."""

    workers = 1

    def __init__(self, settings: Settings, dumps: Sequence[Path]) -> None:
        self.settings = settings
        self.registry: Registry = open_registry(dumps, settings.home / "irr")
        self.description = "rpsl " + ", ".join(str(p) for p in dumps)
        # The same for every member of the sync: worked out once.
        self.doubts = tuple(
            f"dump {str(path)!r} ends mid-object (cut short?)" for path in self.registry.truncated
        )

    def _prefixes(self, asns: Iterable[int], family: int, kept: _Filter) -> tuple[PrefixEntry, ...]:
        pairs = [
            (prefix, int(prefix.rpartition("/")[2]))
            for prefix in self.registry.routes(asns, family)
        ]
        return kept.entries(family, pairs)

    def close(self) -> None:
        """Release the dump indexes."""
        self.registry.close()

    def fetch(self, object_v4: str, object_v6: str) -> Fetched:
        """Expand both objects against the indexed dumps."""
        expansions = {}
        for name in dict.fromkeys((object_v4, object_v6)):
            expansion = expand_as_set(
                name,
                self.registry,
                max_depth=self.settings.irr_max_depth,
                max_asns=self.settings.irr_max_asns,
            )
            if not expansion.found:
                raise SourceUnavailable(f"as_set: {name!r} is not in {self.description}")
            if not expansion.asns:
                raise SourceUnavailable(f"as_set: {name!r} has no member ASNs")
            expansions[name] = expansion
        notes = [note for e in expansions.values() for note in e.notes()]
        for name in expansions:
            asn = parse_asn(name)
            if asn is not None and not self.registry.has_aut_num(asn):
                notes.append(f"AS{asn} has no aut-num object in {self.description}")
        asns = expansions[object_v4].asns | expansions[object_v6].asns
        kept = _Filter(self.settings)
        v4 = self._prefixes(expansions[object_v4].asns, 4, kept)
        v6 = self._prefixes(expansions[object_v6].asns, 6, kept)
        return Fetched(
            asns=tuple(sorted(asns)),
            v4=v4,
            v6=v6,
            notes=(*notes, *kept.notes()),
            ignored=tuple(kept.ignored),
            doubts=self.doubts,
        )


class Bgpq4Source:
    """bgpq4 against ``settings.irr_server`` with ``settings.irr_sources``."""

    workers = 4

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.description = f"bgpq4 {settings.irr_server} ({settings.irr_sources})"

    def close(self) -> None:
        """Nothing to release: every query is its own bgpq4 process."""

    def _run(self, *arguments: str) -> str:
        settings = self.settings
        command = [
            settings.irr_bgpq4_path,
            "-h",
            settings.irr_server,
            "-S",
            settings.irr_sources,
            "-L",
            str(settings.irr_max_depth),
            "-j",
            "-l",
            bgpq4.LIST_NAME,
            *arguments,
        ]
        return proc.run(command, timeout=settings.irr_timeout_seconds).stdout

    def _prefixes(self, name: str, family: int, kept: _Filter) -> tuple[PrefixEntry, ...]:
        text = self._run(f"-{family}", name)
        return kept.entries(family, bgpq4.parse_prefix_list(text, family))

    def fetch(self, object_v4: str, object_v6: str) -> Fetched:
        """Ask bgpq4 for the ASNs of both objects and the prefix list of each family."""
        asns: set[int] = set()
        for name in dict.fromkeys((object_v4, object_v6)):
            found = bgpq4.parse_asn_list(self._run("-t", bgpq4.check_object_name(name)))
            if not found:
                raise SourceUnavailable(
                    f"as_set: {name!r} is empty or unknown at {self.description}"
                )
            if len(found) > self.settings.irr_max_asns:
                raise SourceUnavailable(
                    f"as_set: {name!r} expands to {len(found)} ASNs, over irr_max_asns"
                )
            asns.update(found)
        kept = _Filter(self.settings)
        v4 = self._prefixes(object_v4, 4, kept)
        v6 = self._prefixes(object_v6, 6, kept)
        return Fetched(
            asns=tuple(sorted(asns)),
            v4=v4,
            v6=v6,
            notes=kept.notes(),
            ignored=tuple(kept.ignored),
        )
