"""Python's cycle collector around work that makes many objects and no garbage cycles.

The collector walks every tracked object again each time the young ones add a
quarter to the old: work that builds hundreds of thousands of objects kept alive
until it ends (a route-server build's registry prefixes and rules, a traffic
bucket's cells) pays for walks that free nothing. Reference counting still frees
what such work drops while the collector is paused.
"""

from __future__ import annotations

import atexit
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The collector off inside, back as it was after (nested pauses keep it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def frozen_at_exit() -> None:
    """Set the heap aside from the collection the interpreter runs as it exits.

    For a command that ends with a large heap: that last collection walked the
    million objects of a 1,000-member build for nothing (1.0-1.7 CPU-s of an
    ``ixp rs build`` of 4.5-6 CPU-s). Registered once per process; exit handlers
    run before that collection.
    """
    atexit.register(gc.freeze)
