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
from ixp.irr.prefixes import aggregate, max_length_for
from ixp.irr.rpsl import parse_asn
from ixp.irr.types import PrefixEntry
from ixp.settings import Settings


@dataclass(frozen=True)
class Fetched:
    """A member's registry data as one source answered."""

    asns: tuple[int, ...]
    v4: tuple[PrefixEntry, ...]
    v6: tuple[PrefixEntry, ...]
    notes: tuple[str, ...] = ()


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


class DumpSource:
    """Local RPSL dumps, indexed once under ``<home>/irr/`` and expanded in process."""

    workers = 1

    def __init__(self, settings: Settings, dumps: Sequence[Path]) -> None:
        self.settings = settings
        self.registry: Registry = open_registry(dumps, settings.home / "irr")
        self.description = "rpsl " + ", ".join(str(p) for p in dumps)

    def _prefixes(self, asns: Iterable[int], family: int) -> tuple[PrefixEntry, ...]:
        limit = _limits(self.settings)[family]
        pairs = [
            (prefix, max_length_for(int(prefix.rpartition("/")[2]), limit))
            for prefix in self.registry.routes(asns, family)
        ]
        return aggregate(family, pairs)

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
        return Fetched(
            asns=tuple(sorted(asns)),
            v4=self._prefixes(expansions[object_v4].asns, 4),
            v6=self._prefixes(expansions[object_v6].asns, 6),
            notes=tuple(notes),
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

    def _prefixes(self, name: str, family: int) -> tuple[PrefixEntry, ...]:
        limit = str(_limits(self.settings)[family])
        text = self._run(f"-{family}", "-R", limit, name)
        return aggregate(family, bgpq4.parse_prefix_list(text, family))

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
        return Fetched(
            asns=tuple(sorted(asns)),
            v4=self._prefixes(object_v4, 4),
            v6=self._prefixes(object_v6, 6),
        )
