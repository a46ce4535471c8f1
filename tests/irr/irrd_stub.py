"""A minimal IRRd query-protocol responder on loopback, so the real bgpq4 binary can be tested.

No IRR server is reachable from the test machines, and bgpq4 is the production
source, so its success path (our argv, its JSON output, our parsing) needs a
server to talk to. This answers the handful of IRRd "!" queries bgpq4 sends
(``!!``, ``!n``, ``!a``, ``!s``, ``!i``, ``!g``, ``!6``, ``!q``) from the
objects of an RPSL dump, in the IRRd response framing bgpq4 reads: ``A<n>``
followed by n bytes of data and ``C``; ``C`` alone for no data; ``D`` for an
unknown key; ``F <message>`` for an error.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ixp.irr.rpsl import DumpContents, parse_asn, read_dump


def _answer(contents: DumpContents, query: str) -> bytes | None:
    if query in ("!!", "") or query.startswith("!q"):
        return None
    if query.startswith(("!n", "!s")):
        return b"C\n"
    if query == "!a":
        return b"F Unrecognized command\n"
    items: list[str] | None
    if query.startswith("!i"):
        name = query[2:].split(",")[0].upper()
        items = contents.as_sets.get(name)
        if items is None:
            return b"D\n"
    elif query.startswith(("!g", "!6")):
        asn = parse_asn(query[2:])
        table = contents.routes4 if query[1] == "g" else contents.routes6
        items = sorted(set(table.get(asn, []))) if asn is not None else []
    else:
        return b"F Unrecognized command\n"
    if not items:
        return b"C\n"
    data = (" ".join(items) + "\n").encode()
    return b"A%d\n" % len(data) + data + b"C\n"


@contextmanager
def irrd_stub(dump: Path) -> Iterator[str]:
    """Serve ``dump`` on a free loopback port; yields ``host:port`` for bgpq4 ``-h``."""
    contents = read_dump(dump)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for raw in self.rfile:
                query = raw.decode().strip()
                if query.startswith("!q"):
                    return
                answer = _answer(contents, query)
                if answer is not None:
                    self.wfile.write(answer)
                    self.wfile.flush()

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
