"""At most ``web_max_requests`` requests of a worker in progress at once; the rest wait.

Handlers and dependencies that use the database run on a thread pool, one job
each, and a request keeps its database connection from its first query until
it is torn down. Without a bound, a burst admits more requests than there are
connections: threads then wait for connections held by requests that wait for
threads, and the worker stops answering. Admitting no more requests than the
pool has connections makes that impossible; a request waits here, in the event
loop, holding nothing, and after ``web_queue_seconds`` is answered 503 with
``Retry-After`` instead of hanging.
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

from api import problems


class ConcurrencyLimit:
    """An ASGI middleware admitting ``limit`` HTTP requests at a time, the rest in order."""

    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        # One semaphore per event loop (a test client may run several in turn).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request once a place is free; 503 if none frees up in time."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gate = self._gate()
        try:
            if gate.locked():  # wait_for costs a task; only a full gate needs one
                await asyncio.wait_for(gate.acquire(), self.wait_seconds)
            else:
                await gate.acquire()
        except TimeoutError:
            busy = problems.problem(
                503,
                f"the server is busy ({self.limit} requests in progress); retry shortly",
                kind="busy",
                headers={"Retry-After": "1"},
            )
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.release()
