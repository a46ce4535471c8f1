"""Running the real BIRD in tests: parse checks and a short-lived daemon on a control socket."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ixp.bird import BirdClient
from ixp.errors import SourceUnavailable
from ixp.rs.check import bird_parse

BIRD = shutil.which("bird")
needs_bird = pytest.mark.skipif(BIRD is None, reason="BIRD 2 (Debian bird2: bird) is not installed")


def parses(text: str, tmp_path: Path, name: str = "test.conf") -> float:
    """Write ``text`` and parse-check it with the real BIRD (raises ConfigRejected)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return bird_parse(path)


def _answers(socket: Path) -> bool:
    """Whether BIRD greets a client on ``socket`` yet."""
    try:
        with BirdClient(str(socket), timeout=5):
            return True
    except SourceUnavailable:
        return False


@contextmanager
def running_bird(config: Path) -> Iterator[Path]:
    """BIRD in the foreground on ``config`` with a control socket next to it; stopped afterwards.

    No namespace is needed: BGP sessions simply stay idle, static protocols run.
    """
    assert BIRD is not None
    socket = config.with_suffix(".ctl")
    process = subprocess.Popen(
        [BIRD, "-f", "-c", str(config), "-s", str(socket)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The socket file appears when BIRD binds it, a moment before it listens: wait until
        # a client gets BIRD's greeting (seconds on a loaded CI machine, not milliseconds).
        deadline = time.monotonic() + 60
        while not _answers(socket):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"bird did not start: {process.stderr.read() if process.stderr else ''}"
                )
            time.sleep(0.05)
        yield socket
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
