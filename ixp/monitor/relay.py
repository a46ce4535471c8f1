"""ExaBGP's API process for the collector: copies ExaBGP's JSON stream into the collector's FIFO.

ExaBGP treats a hang-up on its helper's stdout as the helper's death and starts
another one, so the helper must keep stdout open and silent (anything it
printed would be read as API commands). ``dd of=FIFO`` does not qualify: GNU dd
reopens fd 1 onto its output file. This copies raw bytes, unbuffered, until
ExaBGP closes the pipe.
"""

from __future__ import annotations

import contextlib
import os
import sys


def relay(source: int, target: int) -> None:
    """Copy everything from ``source`` to ``target`` until end of file."""
    while chunk := os.read(source, 65536):
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]


def main() -> None:
    """``python -m ixp.monitor.relay FIFO``."""
    target = os.open(sys.argv[1], os.O_WRONLY)
    try:
        with contextlib.suppress(BrokenPipeError):  # the monitor went away: so do we
            relay(sys.stdin.fileno(), target)
    finally:
        os.close(target)


if __name__ == "__main__":
    main()
