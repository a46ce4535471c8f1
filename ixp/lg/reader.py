"""BIRD's sessions and routes through the looking glass's cache, for the member pages.

A member's NOC reloading its accepted-routes page must not make the route server
answer anew each time: each command is asked of BIRD at most once per
time-to-live (``TtlCache``: one fetch however many ask, an expired answer served
while one refresh replaces it). Routes are kept parsed, not shaped, since the
pages and the API each show them their own way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from ixp.bird import BirdClient, BirdRoute, ProtocolStatus
from ixp.lg.cache import TtlCache

T = TypeVar("T")


class CachedReader:
    """A ``ixp.monitor.routes.RouteReader`` whose answers are kept for ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float,
        *,
        timeout: float,
        max_entries: int = 256,
        client: Callable[[str], BirdClient] | None = None,
    ) -> None:
        self.cache: TtlCache[object] = TtlCache(ttl, max_entries)
        # As LookingGlass's: a test passes a client that writes down what reaches BIRD.
        self._client = client or functools.partial(BirdClient, timeout=timeout)

    def _ask(self, socket: str, key: tuple[str, ...], ask: Callable[[BirdClient], T]) -> T:
        def fetch() -> object:
            with self._client(socket) as bird:
                return ask(bird)

        answer: T = self.cache.get((socket, *key), fetch).value  # type: ignore[assignment]
        return answer

    def protocols(self, socket: str) -> list[ProtocolStatus]:
        """``show protocols all``, kept."""
        return self._ask(socket, ("protocols",), lambda bird: bird.protocols())

    def routes(self, socket: str, scope: str) -> list[BirdRoute]:
        """``show route <scope> all``, kept."""
        return self._ask(socket, ("routes", scope), lambda bird: bird.routes(scope))
