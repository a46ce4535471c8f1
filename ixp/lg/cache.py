"""A small, bounded, thread-safe cache of BIRD's answers, each kept for a fixed time.

The web server answers requests on many threads; BIRD answers one command at a
time on its control socket and a route dump of a large member costs it real
CPU. So every distinct query (route server and command) is asked of BIRD at
most once per time-to-live: a request that finds a fresh answer takes it, and
requests that arrive while the answer is being fetched wait for that one fetch
instead of starting their own. The number of answers kept is bounded; the one
used longest ago goes first.

``NotFound`` (an unknown protocol or table) is kept like an answer, so asking
for a name that does not exist over and over does not reach BIRD either; a
route server that cannot be reached is not kept, so the next request tries again.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ixp.errors import NotFound

V = TypeVar("V")


def utc_now() -> dt.datetime:
    """The current time in UTC (the looking glass serves every time in UTC)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Cached(Generic[V]):
    """An answer, when it was fetched, until when it is reused, and whether it was reused."""

    value: V
    cached_at: dt.datetime
    expires_at: dt.datetime
    from_cache: bool


@dataclass(frozen=True)
class _Entry(Generic[V]):
    outcome: V | NotFound
    cached_at: dt.datetime
    fresh_until: float


class TtlCache(Generic[V]):
    """Answers by key for ``ttl`` seconds, at most ``max_entries`` of them.

    ``clock`` (monotonic seconds) decides freshness and ``now`` stamps answers;
    both are parameters so a test can move time on.
    """

    def __init__(
        self,
        ttl: float,
        max_entries: int = 256,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if max_entries < 1:
            raise ValueError("a cache holds at least one entry")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._fetching: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _fresh(self, key: Hashable) -> _Entry[V] | None:
        """The entry of ``key`` if still fresh (call with ``_lock`` held)."""
        entry = self._entries.get(key)
        if entry is None or entry.fresh_until <= self._clock():
            return None
        self._entries.move_to_end(key)
        return entry

    def get(self, key: Hashable, fetch: Callable[[], V]) -> Cached[V]:
        """The answer of ``key``: a fresh kept one, or ``fetch()``'s (kept for ``ttl``)."""
        with self._lock:
            entry = self._fresh(key)
            if entry is not None:
                return self._answer(entry, from_cache=True)
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            with self._lock:
                entry = self._fresh(key)
            if entry is not None:
                return self._answer(entry, from_cache=True)
            return self._answer(self._fetch(key, fetch), from_cache=False)

    def _fetch(self, key: Hashable, fetch: Callable[[], V]) -> _Entry[V]:
        try:
            outcome: V | NotFound = fetch()
        except NotFound as missing:
            outcome = missing
        except BaseException:
            with self._lock:
                self._fetching.pop(key, None)
            raise
        entry = _Entry(outcome, self._now(), self._clock() + self.ttl)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            self._fetching.pop(key, None)
        return entry

    def _answer(self, entry: _Entry[V], *, from_cache: bool) -> Cached[V]:
        if isinstance(entry.outcome, NotFound):
            # A fresh traceback on every raise: a kept error must not grow with each request.
            raise entry.outcome.with_traceback(None)
        expires_at = entry.cached_at + dt.timedelta(seconds=self.ttl)
        return Cached(entry.outcome, entry.cached_at, expires_at, from_cache)
