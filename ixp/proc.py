"""The one way ixp runs other programs (bird, bgpq4, ip).

Always an argument list (never a shell), always a timeout, output captured, and
failures turned into ``SourceUnavailable`` with a one-line reason: the program
missing, silent past its timeout, or exiting non-zero with its last words.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from ixp.errors import SourceUnavailable


class CommandFailed(SourceUnavailable):
    """A program ran and exited non-zero; ``detail`` is its most telling output line."""

    def __init__(self, argv: Sequence[str], returncode: int, detail: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.detail = detail
        super().__init__(f"{' '.join(self.argv)!r} failed: {detail}")


def last_words(result: subprocess.CompletedProcess[str], *, first: bool = False) -> str:
    """The first or last non-empty line of stderr (else stdout), or the exit status."""
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line]
    if not lines:
        return f"exit status {result.returncode}"
    return (lines[0] if first else lines[-1]).strip()


def run(
    argv: Sequence[str], *, timeout: float, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and return its captured output.

    Raises ``SourceUnavailable`` when the program is missing or times out, and
    ``CommandFailed`` when it exits non-zero and ``check`` is true.
    """
    command = list(argv)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(f"{' '.join(command)!r}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SourceUnavailable(f"{command[0]!r} cannot be run: {exc.strerror or exc}") from None
    if check and result.returncode != 0:
        raise CommandFailed(command, result.returncode, last_words(result))
    return result
