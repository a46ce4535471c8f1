"""The API process of a lab speaker: ``python -m ixp.lab.agent RECEIVED COMMANDS``.

ExaBGP runs it and talks to it over a pipe each way. Everything ExaBGP writes
to it (JSON messages: session state, received updates) is appended to the file
RECEIVED and flushed at once, so a test reading the file sees an update as soon
as ExaBGP decoded it. Every line written into the named pipe COMMANDS (ExaBGP
text API: ``announce route ...``, ``withdraw route ...``) is passed on to
ExaBGP; this is how a running speaker changes what it announces without a
session reset (ExaBGP 5.0 does not withdraw routes removed from its config on
reload). The agent exits when ExaBGP closes its side.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def record(target: Path) -> None:
    """Copy ExaBGP's messages to ``target`` until ExaBGP goes away, then end the process."""
    with target.open("a", encoding="utf-8") as out:
        for line in sys.stdin:
            out.write(line)
            out.flush()
    os._exit(0)


def relay(commands: Path) -> None:
    """Pass every line written to the named pipe ``commands`` on to ExaBGP, forever."""
    while True:
        with commands.open(encoding="utf-8") as pipe:
            for line in pipe:
                sys.stdout.write(line)
                sys.stdout.flush()


def main(received: Path, commands: Path) -> None:
    """Record in a thread, relay in the main thread."""
    threading.Thread(target=record, args=(received,), daemon=True).start()
    relay(commands)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
