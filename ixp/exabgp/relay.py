"""The API process ExaBGP starts: ``python -m ixp.exabgp.relay STREAM [COMMANDS]``.

ExaBGP writes its JSON messages to the API process's stdin and reads text-API
commands from its stdout. This copies the messages, raw and unbuffered, to
STREAM (the collector's FIFO, or the lab speaker's file of received messages,
appended to; either must exist: a FIFO that went missing is not silently
replaced by a file nobody reads), so a reader sees an update as soon as ExaBGP decoded it. With
COMMANDS, every line written into that named pipe (``announce route ...``,
``withdraw route ...``) is passed on to ExaBGP: this is how a running lab
speaker changes what it announces without a session reset (ExaBGP 5 does not
withdraw routes removed from its config on reload).

ExaBGP treats a hang-up on the helper's stdout as the helper's death and starts
another one, so stdout stays open and silent but for those commands (``dd
of=FIFO`` does not qualify: GNU dd reopens fd 1 onto its output file). The
process ends when ExaBGP closes its side, or when the reader of STREAM goes away.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path


def copy(source: int, target: int) -> None:
    """Copy everything from ``source`` to ``target`` until end of file."""
    while chunk := os.read(source, 65536):
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]


def pass_commands(commands: Path) -> None:
    """Pass every line written to the named pipe ``commands`` on to ExaBGP, forever."""
    while True:
        with commands.open(encoding="utf-8") as pipe:
            for line in pipe:
                sys.stdout.write(line)
                sys.stdout.flush()


def main(arguments: list[str]) -> None:
    """Relay commands in a daemon thread; copy the stream until ExaBGP or the reader goes."""
    if len(arguments) > 1:
        threading.Thread(target=pass_commands, args=(Path(arguments[1]),), daemon=True).start()
    # Opening a FIFO for writing waits for its reader; a file is appended to.
    target = os.open(arguments[0], os.O_WRONLY | os.O_APPEND)
    try:
        with contextlib.suppress(BrokenPipeError):
            copy(sys.stdin.fileno(), target)
    finally:
        os.close(target)


if __name__ == "__main__":
    main(sys.argv[1:])
