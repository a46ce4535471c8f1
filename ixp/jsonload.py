"""Reading JSON files that come from outside (IX-F exports, validators' ROA exports).

``json.loads`` fails in more ways than ``JSONDecodeError``: a document nested
deeper than the interpreter's stack raises ``RecursionError``, an integer of
more than 4300 digits a bare ``ValueError``, bytes that are not UTF-8 a
``UnicodeDecodeError``. Each of them here becomes one ``ValidationError`` on the
field ``file`` naming the file, so a broken or hostile file is one line for the
operator, never a traceback. Imports only the error types, so every reader can
use it without an import cycle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ixp.errors import ValidationError


def read(path: Path) -> bytes:
    """The bytes of ``path``; a one-line error naming it when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError("file", str(path), f"cannot be read ({exc.strerror})") from None


def loads(data: bytes | str, source: str) -> Any:
    """The JSON value in ``data`` (UTF-8, byte-order mark or not), read from ``source``."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise ValidationError(
            "file", source, f"is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except RecursionError:
        reason = "is not usable JSON (nested too deeply)"
    except ValueError:  # the only other one: an integer beyond the int-from-text limit
        reason = (
            f"is not usable JSON (a number has more than {sys.get_int_max_str_digits()} digits)"
        )
    raise ValidationError("file", source, reason)
