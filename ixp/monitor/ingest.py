"""The ingest path: one line of ExaBGP JSON in, the route server's RIB updated.

Kept apart from the collector (which owns processes and pipes) so the
benchmark and the tests drive exactly the code the running monitor uses.
Nothing a single line holds may stop the reader: a line the decoder refuses is
counted in ``malformed``, a decoded message the RIB fails on in
``apply_errors``; both are logged with the line (its first 200 characters) and
the next line is read.
"""

from __future__ import annotations

import logging
import threading

from ixp.exabgp.decode import Decoder, MalformedMessage, Message
from ixp.monitor.rib import RouteServerRib

log = logging.getLogger(__name__)

# How much of a line goes into the log.
_QUOTED = 200


class Ingest:
    """Decoder plus RIB for one route server; counts what it had to skip.

    ``lock`` guards the RIB: the collector thread writes, the service loop reads.
    """

    def __init__(self, route_server: str) -> None:
        self.decoder = Decoder()
        self.rib = RouteServerRib(route_server)
        self.lines = 0
        self.malformed = 0
        self.apply_errors = 0
        self.lock = threading.Lock()

    def feed(self, line: str | bytes) -> Message | None:
        """Decode and apply one line; a line that fails either step is logged and skipped."""
        self.lines += 1
        try:
            message = self.decoder.decode(line)
        except MalformedMessage as exc:
            self.malformed += 1
            log.warning("%s: skipped malformed ExaBGP line: %s", self.rib.name, exc)
            return None
        if message is None or not self.apply(message, line):
            return None
        return message

    def apply(self, message: Message, line: str | bytes = "") -> bool:
        """Apply one decoded message to the RIB; False (counted, logged) if the RIB raised.

        The decoder checks every value, so this failing is a bug in the RIB, not
        bad input; it is caught all the same, because the alternative is a dead
        reader and a RIB that silently stops changing.
        """
        try:
            with self.lock:
                self.rib.apply(message)
        except Exception:
            self.apply_errors += 1
            log.exception(
                "%s: could not apply ExaBGP line to the RIB: %r", self.rib.name, line[:_QUOTED]
            )
            return False
        return True

    def reset(self) -> None:
        """Forget the RIB (the ExaBGP child is gone; the next session resends everything)."""
        with self.lock:
            self.rib.clear()
            self.decoder = Decoder()
