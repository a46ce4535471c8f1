"""Recursive AS-SET expansion that survives what real registries contain.

Registries hold AS-SETs that include themselves through a chain of other sets
(loops), name sets nobody registered (missing), nest absurdly deep (depth
bombs, accidental or not) and expand to most of the internet (``AS-ANY``-like
customer cones of transit networks). Expansion is breadth-first with a visited
set (loops end), records missing and too-deep sets as notes instead of failing
(the rest of the set is still right), and stops with ``ExpansionTooLarge``
past a size limit, because a truncated set would be an arbitrary filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ixp.errors import SourceUnavailable
from ixp.irr.rpsl import parse_asn


class ExpansionTooLarge(SourceUnavailable):
    """An AS-SET expands to more ASNs than the configured limit: its data is unusable, so the
    member keeps its last good data, as for any source failure."""


class AsSetLookup(Protocol):
    """Where set definitions come from (an indexed dump, or a test's dict)."""

    def as_set(self, name: str) -> list[str] | None: ...


@dataclass(frozen=True)
class Expansion:
    """The ASNs of an AS-SET, and the parts that could not be expanded."""

    name: str
    asns: frozenset[int]
    missing: tuple[str, ...]
    too_deep: tuple[str, ...]
    found: bool

    def notes(self) -> list[str]:
        """One-line remarks for the operator about what was left out."""
        notes = []
        if self.missing:
            notes.append(f"{self.name}: missing sets {', '.join(self.missing)}")
        if self.too_deep:
            notes.append(f"{self.name}: sets beyond max depth {', '.join(self.too_deep)}")
        return notes


def expand_as_set(name: str, lookup: AsSetLookup, *, max_depth: int, max_asns: int) -> Expansion:
    """Expand ``name`` (an AS-SET, or a plain ``AS123``) to its ASNs.

    ``found`` is False when the top-level set itself does not exist: the caller
    must treat that as a failure, not as an empty set.
    """
    own = parse_asn(name)
    if own is not None:
        return Expansion(name.upper(), frozenset({own}), (), (), True)
    top = name.upper()
    asns: set[int] = set()
    seen = {top}
    missing: set[str] = set()
    too_deep: set[str] = set()
    level = [top]
    depth = 0
    while level:
        depth += 1
        following: list[str] = []
        for set_name in level:
            members = lookup.as_set(set_name)
            if members is None:
                missing.add(set_name)
                continue
            for member in members:
                asn = parse_asn(member)
                if asn is not None:
                    asns.add(asn)
                elif member not in seen:
                    seen.add(member)
                    following.append(member)
            if len(asns) > max_asns:
                raise ExpansionTooLarge(
                    f"as_set: {top!r} expands to more than {max_asns} ASNs (irr_max_asns)"
                )
        if following and depth >= max_depth:
            too_deep.update(following)
            break
        level = following
    found = top not in missing
    missing.discard(top)
    return Expansion(top, frozenset(asns), tuple(sorted(missing)), tuple(sorted(too_deep)), found)
