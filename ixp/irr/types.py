"""The frozen values the IRR layer hands to the rest of ixp (a leaf module: no project imports).

The route-server renderer reads ``IrrData`` and nothing else from this package,
so everything it needs to build a member's filter, and to say why a filter is
what it is, travels in these few immutable records.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True, slots=True)
class PrefixEntry:
    """An accepted prefix and the longest more-specific of it a member may announce.

    ``max_length`` follows bgpq4's ``-R`` semantics: the registered length up to
    the per-family limit (24 for IPv4 and 48 for IPv6 unless configured), or the
    registered length itself when the object is already more specific than that.
    """

    prefix: str
    max_length: int


@dataclass(frozen=True)
class IrrData:
    """One member's registry data as the route-server config should use it.

    ``asns`` and both prefix tuples are sorted and deduplicated; an entry covered
    by a shorter entry with at least the same ``max_length`` is dropped. ``held``
    says a newer update waits for an operator (this data is the last good one);
    ``fetched_at`` is None only when no good data was ever stored (the first
    fetch itself was held), in which case both prefix tuples are empty.
    """

    as_set: str
    asns: tuple[int, ...]
    v4: tuple[PrefixEntry, ...]
    v6: tuple[PrefixEntry, ...]
    fetched_at: dt.datetime | None
    source: str
    held: bool
    note: str | None


class SyncOutcome(enum.StrEnum):
    """What one member's sync did to its stored data."""

    ok = "ok"
    unchanged = "unchanged"
    failed = "failed-kept-last-good"
    held = "held-for-approval"


@dataclass(frozen=True)
class MemberSyncResult:
    """The outcome of syncing one member, with counts of the data now in use."""

    asn: int
    as_set: str
    outcome: SyncOutcome
    prefixes_v4: int
    prefixes_v6: int
    note: str | None = None


@dataclass(frozen=True)
class SyncReport:
    """Every member's outcome of one ``ixp irr sync`` run, in ASN order."""

    source: str
    results: tuple[MemberSyncResult, ...] = field(default_factory=tuple)

    def count(self, outcome: SyncOutcome) -> int:
        """How many members ended with ``outcome``."""
        return sum(1 for r in self.results if r.outcome is outcome)
