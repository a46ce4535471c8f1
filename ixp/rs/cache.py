"""Answers a build can reuse while its inputs are the same, kept as files under ``home``.

A build runs in a fresh process (``ixp rs build``), so a cache that helps it has to
outlive the process. An entry is stored under the SHA-256 of everything its value
is computed from; a changed input is a different key, never a stale answer, and
nothing has to be invalidated. Entries are written whole (a temporary file renamed
into place), so a reader sees a complete entry or none, and only the newest few of
each kind are kept. The cache is an optimisation only: an entry that is missing,
unreadable or not what was stored (truncated, edited) is a miss, and a directory
that cannot be written leaves the build to compute the answer every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KEEP = 8  # entries per kind: a few route servers times a few recent data versions


def cache_key(parts: Iterable[str | bytes]) -> str:
    """The key of an answer computed from ``parts`` (each one framed, so no two lists of
    parts give the same bytes)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class BuildCache:
    """JSON values by kind and key in one directory (``<home>/cache/rs``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / f"{kind}-{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The value stored for ``kind`` and ``key``, or None."""
        try:
            stored = json.loads(self._path(kind, key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        return stored.get("value")

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store ``value``, then drop the oldest entries of ``kind`` beyond ``KEEP``."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f".{kind}.", dir=self.directory)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump({"key": key, "value": value}, stream, separators=(",", ":"))
                os.replace(temp, self._path(kind, key))
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            self._prune(kind)
        except OSError as exc:
            log.warning("build cache %s not written: %s", self.directory, exc)

    def _prune(self, kind: str) -> None:
        entries = []
        for path in self.directory.glob(f"{kind}-*.json"):
            try:
                entries.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:
                continue
        entries.sort(reverse=True)
        for _, path in entries[KEEP:]:
            path.unlink(missing_ok=True)
