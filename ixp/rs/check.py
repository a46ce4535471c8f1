"""``bird -p -c FILE``: BIRD's own parser is the judge of a generated configuration."""

from __future__ import annotations

import time
from pathlib import Path

from ixp import proc
from ixp.errors import IxpError


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
    result = proc.run([bird, "-p", "-c", str(path)], timeout=timeout, check=False)
    if result.returncode != 0:
        raise ConfigRejected(path, proc.last_words(result, first=True))
    return time.monotonic() - started
