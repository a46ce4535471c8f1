"""Work that must not run twice at once on this host: a build into the same directory, a
push to the route servers.

An advisory ``flock`` on a file, so the lock goes when its process does, even
one killed by SIGKILL: no stale lock to clear by hand. The holder writes who it
is into the file, so the one refused can say who holds it. The file is never
removed (removing a lock file races with the next process opening it).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ixp.errors import Conflict, ValidationError

_POLL_SECONDS = 0.2


def _holder(handle: int) -> str:
    os.lseek(handle, 0, os.SEEK_SET)
    return os.read(handle, 512).decode("utf-8", "replace").strip() or "another process"


def _try_lock(handle: int) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def exclusive(
    path: Path, what: str, *, holder: str, field: str = "lock", wait_seconds: float = 0.0
) -> Iterator[None]:
    """Hold the lock at ``path`` for ``what`` (e.g. "a build into /srv/rs") while inside.

    Waits up to ``wait_seconds`` for it, then ``Conflict`` naming ``what`` and the
    holder's ``holder`` text (who started it), process id and start time. A folder
    that cannot hold the lock file is a ``ValidationError`` of ``field``, the setting
    or option that named it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ValidationError(
            field, str(path.parent), f"cannot hold a lock file ({reason}); nothing was done"
        ) from None
    try:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise Conflict(
                    f"{what} is already running ({_holder(handle)}); try again when it ends"
                )
            time.sleep(_POLL_SECONDS)
        os.ftruncate(handle, 0)
        os.lseek(handle, 0, os.SEEK_SET)
        os.write(
            handle,
            f"{holder}, pid {os.getpid()}, since {dt.datetime.now(dt.UTC):%H:%M:%S} UTC".encode(),
        )
        yield
    finally:
        os.close(handle)  # closing releases the lock
