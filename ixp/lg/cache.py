"""A small, bounded, thread-safe cache of BIRD's answers, refreshed in the background.

The web server answers requests on many threads; BIRD answers one command at a
time on its control socket and a route dump costs it real time: ``show route
protocol X`` walks the whole table whatever the size of X's answer, about 6 to
15 s on a route server of 1,000,000 routes and 1,900 sessions. So every
distinct query (route server and command) is asked of BIRD at most once per
time-to-live: a request that finds a fresh answer takes it; requests that
arrive while the first answer is being fetched wait for that one fetch instead
of starting their own; and once an answer has expired, requests are served it
(stale-while-revalidate) while one background refresh fetches its successor,
so only the very first request of a query waits for BIRD. The number of
answers kept is bounded; the one used longest ago goes first.

``NotFound`` (an unknown protocol or table) is kept like an answer, so asking
for a name that does not exist over and over does not reach BIRD either; a
route server that cannot be reached is not kept, so the next request tries
again, and a refresh that cannot reach it drops the expired answer instead of
serving it on. A time-to-live of zero keeps nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ixp.errors import NotFound

V = TypeVar("V")
logger = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    """The current time in UTC (the looking glass serves every time in UTC)."""
    return dt.datetime.now(dt.UTC)


class NotKept(LookupError):
    """No answer is kept for a key yet, and the caller would not wait for one."""


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


def start_thread(work: Callable[[], None]) -> None:
    """Run ``work`` on a daemon thread of its own: a refresh left running does not hold
    up the process's exit."""
    threading.Thread(target=work, name="ixp-lg-refresh", daemon=True).start()


class TtlCache(Generic[V]):
    """Answers by key for ``ttl`` seconds, then served while refreshed; at most
    ``max_entries`` of them.

    ``clock`` (monotonic seconds) decides freshness, ``now`` stamps answers and
    ``spawn`` runs a refresh in the background; all are parameters so a test can
    move time on and run refreshes when it chooses.
    """

    def __init__(
        self,
        ttl: float,
        max_entries: int = 256,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
        spawn: Callable[[Callable[[], None]], None] = start_thread,
    ) -> None:
        if max_entries < 1:
            raise ValueError("a cache holds at least one entry")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._now = now
        self._spawn = spawn
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._fetching: dict[Hashable, threading.Lock] = {}
        self._refreshing: set[Hashable] = set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _kept(self, key: Hashable) -> tuple[_Entry[V] | None, bool]:
        """The entry of ``key`` if any, and whether a refresh of it must start now (call
        with ``_lock`` held): it has expired and no refresh of it is running."""
        entry = self._entries.get(key)
        if entry is None:
            return None, False
        self._entries.move_to_end(key)
        if entry.fresh_until > self._clock() or key in self._refreshing:
            return entry, False
        self._refreshing.add(key)
        return entry, True

    def get(self, key: Hashable, fetch: Callable[[], V], *, block: bool = True) -> Cached[V]:
        """The answer of ``key``: a kept one (refreshed in the background once expired),
        or, the first time, ``fetch()``'s.

        With ``block`` false, ``NotKept`` instead of fetching: a caller that must not
        wait (an event loop) asks again where it may.
        """
        with self._lock:
            entry, refresh = self._kept(key)
            if entry is None:
                if not block:
                    raise NotKept(key)
                fetching = self._fetching.setdefault(key, threading.Lock())
        if entry is None:
            return self._first(key, fetch, fetching)
        if refresh:
            self._spawn(lambda: self._refresh(key, fetch))
        return self._answer(entry, from_cache=True)

    def _first(self, key: Hashable, fetch: Callable[[], V], fetching: threading.Lock) -> Cached[V]:
        """The first answer of ``key``: one request fetches it, the others wait for it."""
        with fetching:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None:
                return self._answer(entry, from_cache=True)
            try:
                return self._answer(self._fetch(key, fetch), from_cache=False)
            finally:
                with self._lock:
                    self._fetching.pop(key, None)

    def _refresh(self, key: Hashable, fetch: Callable[[], V]) -> None:
        """Replace the expired answer of ``key``; one that cannot be fetched is dropped."""
        try:
            self._fetch(key, fetch)
        except Exception as failed:
            logger.warning("looking glass: refreshing %r failed, answer dropped: %s", key, failed)
            with self._lock:
                self._entries.pop(key, None)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _fetch(self, key: Hashable, fetch: Callable[[], V]) -> _Entry[V]:
        """``fetch()``'s answer (or ``NotFound``), kept unless the time-to-live is zero."""
        try:
            outcome: V | NotFound = fetch()
        except NotFound as missing:
            outcome = missing
        entry = _Entry(outcome, self._now(), self._clock() + self.ttl)
        if self.ttl > 0:
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return entry

    def _answer(self, entry: _Entry[V], *, from_cache: bool) -> Cached[V]:
        if isinstance(entry.outcome, NotFound):
            # A fresh traceback on every raise: a kept error must not grow with each request.
            raise entry.outcome.with_traceback(None)
        expires_at = entry.cached_at + dt.timedelta(seconds=self.ttl)
        return Cached(entry.outcome, entry.cached_at, expires_at, from_cache)
