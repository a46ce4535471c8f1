"""The looking glass's cache: one fetch per key and time-to-live, however many ask at once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ixp.errors import NotFound, SourceUnavailable
from ixp.lg import TtlCache

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Clock:
    """Monotonic seconds a test moves on by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def cache(ttl: float = 30.0, max_entries: int = 8) -> tuple[TtlCache[int], Clock]:
    clock = Clock()
    return TtlCache(ttl, max_entries, clock=clock, now=lambda: T0), clock


def test_an_answer_is_reused_within_its_ttl_and_fetched_again_after() -> None:
    kept, clock = cache()
    fetched: list[int] = []

    def fetch() -> int:
        fetched.append(1)
        return len(fetched)

    first = kept.get("q", fetch)
    clock.seconds = 29.9
    again = kept.get("q", fetch)
    assert (first.value, first.from_cache, again.value, again.from_cache) == (1, False, 1, True)
    assert first.cached_at == again.cached_at == T0
    assert first.expires_at == T0 + dt.timedelta(seconds=30)
    clock.seconds = 30.0
    assert (kept.get("q", fetch).value, len(fetched)) == (2, 2)


def test_a_zero_ttl_fetches_every_time() -> None:
    kept, _ = cache(ttl=0)
    assert [kept.get("q", lambda: 5).from_cache for _ in range(3)] == [False] * 3


def test_the_entry_used_longest_ago_goes_first_when_full() -> None:
    kept, _ = cache(max_entries=2)
    kept.get("a", lambda: 1)
    kept.get("b", lambda: 2)
    kept.get("a", lambda: 99)  # used again: "b" is now the oldest
    kept.get("c", lambda: 3)
    assert len(kept) == 2
    assert kept.get("a", lambda: 99).value == 1
    assert kept.get("b", lambda: 22).value == 22


def test_not_found_is_kept_but_an_unreachable_source_is_not() -> None:
    kept, _ = cache()
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
    kept, _ = cache()
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
