"""``bird -p -c FILE``: BIRD's own parser is the judge of a generated configuration."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ixp.errors import IxpError, SourceUnavailable


class ConfigRejected(IxpError):
    """BIRD refused to parse a configuration; the message is BIRD's own."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        self.bird_message = message
        super().__init__(f"bird -p rejected {path}: {message}")


def bird_parse(path: Path, *, bird: str = "bird", timeout: float = 120.0) -> float:
    """Parse-check ``path`` with BIRD; returns the seconds it took.

    Raises ``ConfigRejected`` with BIRD's first error line when the file does not
    parse, and ``SourceUnavailable`` when BIRD cannot be run or hangs.
    """
    started = time.monotonic()
    try:
        result = subprocess.run(
            [bird, "-p", "-c", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise SourceUnavailable(f"bird_path: {bird!r} not found (install bird2)") from None
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(f"bird -p on {path}: no answer after {timeout:g} s") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise ConfigRejected(path, lines[0] if lines else f"exit status {result.returncode}")
    return time.monotonic() - started
