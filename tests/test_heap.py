"""ixp.heap: the cycle collector paused around large builds, and the heap set aside at exit."""

from __future__ import annotations

import gc
import subprocess
import sys

from ixp.heap import cycle_collection_paused


def test_the_collector_is_paused_inside_and_back_as_it_was_after() -> None:
    assert gc.isenabled()
    with cycle_collection_paused():
        assert not gc.isenabled()
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_after_an_error() -> None:
    try:
        with cycle_collection_paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()


EXIT_PROBE = """
import atexit, gc
from ixp.heap import frozen_at_exit
kept = [[n] for n in range(50_000)]
atexit.register(lambda: print(gc.get_freeze_count() >= len(kept)))
"""


def _at_exit(asked: int) -> str:
    """What the probe prints as the process exits after asking ``asked`` times. Exit
    handlers run last-registered first, so the freeze runs before the probe."""
    source = EXIT_PROBE + "frozen_at_exit()\n" * asked + "print(atexit._ncallbacks())\n"
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def test_the_heap_is_frozen_once_as_the_process_exits() -> None:
    assert _at_exit(0).split() == ["1", "False"]
    assert _at_exit(2).split() == ["2", "True"]
