"""Which threads run what: handlers on a few, waits on BIRD on others.

FastAPI runs every plain (``def``) handler and dependency on the default thread
pool. Python runs one thread at a time, and database drivers hand the
interpreter lock back and forth on every row: with four requests on four
threads of one worker, a page of 100 members cost 21 ms of CPU instead of 11
(bench/api_load.py). So each worker runs its database handlers on
``web_threads`` threads (one by default) and scales with ``web_workers``.

A wait on BIRD is different: ``show route`` on a large route server may say
nothing for seconds, and a handler waiting for it on the only thread would hold
up every other request of that worker. Such waits run on a pool of their own,
as large as the requests a worker serves at once (``web_max_requests``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from ixp.settings import Settings

T = TypeVar("T")


def use(settings: Settings) -> None:
    """Size this worker's pool of handler threads; called once its event loop runs."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads


async def waiting_on_bird(request: Request, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on the threads kept for waits on BIRD (made on first use, on the
    event loop, which runs one thing at a time)."""
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "bird_threads", None)
    if limiter is None:
        limiter = state.bird_threads = anyio.CapacityLimiter(state.settings.web_max_requests)
    return await anyio.to_thread.run_sync(functools.partial(work, *args), limiter=limiter)
