"""The ingest path: one line of ExaBGP JSON in, the route server's RIB updated.

Kept apart from the collector (which owns processes and pipes) so the
benchmark and the tests drive exactly the code the running monitor uses.
"""

from __future__ import annotations

import logging
import threading

from ixp.monitor.exabgp import Decoder, MalformedMessage, Message
from ixp.monitor.rib import RouteServerRib

log = logging.getLogger(__name__)


class Ingest:
    """Decoder plus RIB for one route server; counts what it had to skip.

    ``lock`` guards the RIB: the collector thread writes, the service loop reads.
    """

    def __init__(self, route_server: str) -> None:
        self.decoder = Decoder()
        self.rib = RouteServerRib(route_server)
        self.lines = 0
        self.malformed = 0
        self.lock = threading.Lock()

    def feed(self, line: str | bytes) -> Message | None:
        """Decode and apply one line; a malformed line is logged with its text and skipped."""
        self.lines += 1
        try:
            message = self.decoder.decode(line)
        except MalformedMessage as exc:
            self.malformed += 1
            log.warning("%s: skipped malformed ExaBGP line: %s", self.rib.name, exc)
            return None
        if message is not None:
            with self.lock:
                self.rib.apply(message)
        return message

    def reset(self) -> None:
        """Forget the RIB (the ExaBGP child is gone; the next session resends everything)."""
        with self.lock:
            self.rib.clear()
            self.decoder = Decoder()
