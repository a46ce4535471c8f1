"""The looking glass's cache: one fetch per key and time-to-live, however many ask at once;
an expired answer is served while one background refresh replaces it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ixp.errors import NotFound, SourceUnavailable
from ixp.lg import NotKept, TtlCache

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Clock:
    """Monotonic seconds a test moves on by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


class Refreshes:
    """Background refreshes the cache started, run when the test says."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.pending.append(work)

    def run(self) -> int:
        """Run the pending refreshes; how many there were."""
        work, self.pending = self.pending, []
        for refresh in work:
            refresh()
        return len(work)


def cache(ttl: float = 30.0, max_entries: int = 8) -> tuple[TtlCache[int], Clock, Refreshes]:
    clock, refreshes = Clock(), Refreshes()
    kept = TtlCache(ttl, max_entries, clock=clock, now=lambda: T0, spawn=refreshes)
    return kept, clock, refreshes


class Counter:
    """A fetch that answers 1, 2, 3 ... and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_an_answer_is_reused_within_its_ttl_then_served_while_one_refresh_replaces_it() -> None:
    kept, clock, refreshes = cache()
    fetch = Counter()
    first = kept.get("q", fetch)
    clock.seconds = 29.9
    again = kept.get("q", fetch)
    assert (first.value, first.from_cache, again.value, again.from_cache) == (1, False, 1, True)
    assert first.cached_at == again.cached_at == T0
    assert first.expires_at == T0 + dt.timedelta(seconds=30)
    assert refreshes.pending == []
    clock.seconds = 30.0
    stale = [kept.get("q", fetch) for _ in range(5)]
    assert [(a.value, a.from_cache) for a in stale] == [(1, True)] * 5
    assert (fetch.calls, refreshes.run()) == (1, 1)  # one refresh for the five requests
    refreshed = kept.get("q", fetch)
    assert (refreshed.value, refreshed.from_cache, fetch.calls) == (2, True, 2)
    assert refreshes.pending == []


def test_a_request_never_waits_for_the_refresh_of_an_expired_answer() -> None:
    clock = Clock()
    kept = TtlCache[int](30.0, 8, clock=clock)  # refreshes on real threads
    started, release = threading.Event(), threading.Event()
    kept.get("q", lambda: 1)
    clock.seconds = 31.0

    def slow() -> int:
        started.set()
        assert release.wait(5)
        return 2

    try:
        answer = kept.get("q", slow)
        assert started.wait(5)
        assert (answer.value, kept.get("q", slow).value) == (1, 1)
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while kept.get("q", slow).value != 2:
        assert time.monotonic() < deadline, "the refresh never replaced the answer"
        time.sleep(0.01)


def test_a_failed_refresh_drops_the_answer_so_an_unreachable_source_is_not_served() -> None:
    kept, clock, refreshes = cache()
    kept.get("q", lambda: 1)
    clock.seconds = 31.0

    def down() -> int:
        raise SourceUnavailable("bird socket: refused")

    assert kept.get("q", down).value == 1
    assert refreshes.run() == 1
    assert len(kept) == 0
    with pytest.raises(SourceUnavailable):
        kept.get("q", down)
    assert kept.get("q", lambda: 3).value == 3


def test_a_refresh_that_finds_the_name_gone_keeps_not_found() -> None:
    kept, clock, refreshes = cache()
    kept.get("q", lambda: 1)
    clock.seconds = 31.0
    fetches: list[int] = []

    def gone() -> int:
        fetches.append(1)
        raise NotFound("does not exist", field="protocol", value="q")

    assert kept.get("q", gone).value == 1
    refreshes.run()
    for _ in range(2):
        with pytest.raises(NotFound):
            kept.get("q", gone)
    assert fetches == [1]


def test_refreshes_keep_the_size_bound() -> None:
    kept, clock, refreshes = cache(max_entries=2)
    kept.get("a", lambda: 1)
    kept.get("b", lambda: 2)
    clock.seconds = 31.0
    kept.get("a", lambda: 10)  # stale: refresh pending
    kept.get("c", lambda: 3)  # "b" goes
    kept.get("d", lambda: 4)  # "a" goes while its refresh is pending
    refreshes.run()
    assert len(kept) == 2


def test_a_zero_ttl_fetches_every_time() -> None:
    kept, _, refreshes = cache(ttl=0)
    assert [kept.get("q", lambda: 5).from_cache for _ in range(3)] == [False] * 3
    assert (len(kept), refreshes.pending) == (0, [])


def test_the_entry_used_longest_ago_goes_first_when_full() -> None:
    kept, _, _ = cache(max_entries=2)
    kept.get("a", lambda: 1)
    kept.get("b", lambda: 2)
    kept.get("a", lambda: 99)  # used again: "b" is now the oldest
    kept.get("c", lambda: 3)
    assert len(kept) == 2
    assert kept.get("a", lambda: 99).value == 1
    assert kept.get("b", lambda: 22).value == 22


def test_not_found_is_kept_but_an_unreachable_source_is_not() -> None:
    kept, _, _ = cache()
    calls: list[str] = []

    def missing() -> int:
        calls.append("missing")
        raise NotFound("does not exist", field="protocol", value="x")

    def down() -> int:
        calls.append("down")
        raise SourceUnavailable("bird socket: refused")

    for _ in range(2):
        with pytest.raises(NotFound):
            kept.get("missing", missing)
        with pytest.raises(SourceUnavailable):
            kept.get("down", down)
    assert calls == ["missing", "down", "down"]
    assert kept.get("down", lambda: 7).value == 7


def test_concurrent_requests_for_one_key_wait_for_a_single_fetch() -> None:
    kept, _, _ = cache()
    started = threading.Event()
    release = threading.Event()
    fetches: list[int] = []

    def slow() -> int:
        fetches.append(1)
        started.set()
        assert release.wait(5)
        return 42

    with ThreadPoolExecutor(max_workers=9) as pool:
        first = pool.submit(kept.get, "q", slow)
        assert started.wait(5)
        others = [pool.submit(kept.get, "q", slow) for _ in range(7)]
        other_key = pool.submit(kept.get, "other", lambda: 1)
        assert other_key.result(5).value == 1  # another key is not held up
        release.set()
        answers = [first.result(5), *(f.result(5) for f in others)]
    assert fetches == [1]
    assert {a.value for a in answers} == {42}
    assert sorted(a.from_cache for a in answers) == [False] + [True] * 7


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TtlCache(1.0, 0)


def test_a_caller_that_will_not_wait_is_told_nothing_is_kept_and_nothing_is_fetched() -> None:
    kept, clock, refreshes = cache()
    fetch = Counter()
    with pytest.raises(NotKept):
        kept.get("a", fetch, block=False)
    assert fetch.calls == 0
    assert kept.get("a", fetch).value == 1
    assert kept.get("a", fetch, block=False).value == 1
    clock.seconds = 31.0
    stale = kept.get("a", fetch, block=False)
    assert (stale.value, refreshes.run(), fetch.calls) == (1, 1, 2)
