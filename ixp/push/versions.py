"""Every configuration a route server ran, kept in the database with its hash.

The baseline of a push's diff is what really runs on the route server: the
version its last confirmed push left there (or, before the first push, the file
found there). Versions are stored once per route server and SHA-256,
zlib-compressed (a 1,000-member configuration of 20 MB is about 2 MB), so a
route server pushed the same configuration twice shares one row.

Two configurations that differ only in comments (every build writes its id into
the header) run the same: :func:`same_configuration` compares them without their
comment lines, so a nightly push with nothing new touches no route server.
"""

from __future__ import annotations

import hashlib
import zlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.models import ConfigVersion, PushTarget, RouteServer, TargetState


def sha256(text: str) -> str:
    """The SHA-256 of a configuration as stored on disk (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _body(text: str) -> list[str]:
    """The lines BIRD acts on: comment-only and blank lines dropped, whitespace trimmed."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def same_configuration(old: str | None, new: str) -> bool:
    """True when ``new`` differs from ``old`` in comments and blank lines at most."""
    return old is not None and _body(old) == _body(new)


def store(
    session: Session, rs: RouteServer, text: str, *, origin: str, build_id: int | None = None
) -> ConfigVersion:
    """The stored version of ``text`` for ``rs`` (added to the session if new; not committed)."""
    digest = sha256(text)
    found = session.scalar(
        select(ConfigVersion).where(
            ConfigVersion.route_server_id == rs.id, ConfigVersion.sha256 == digest
        )
    )
    if found is not None:
        return found
    data = text.encode("utf-8")
    version = ConfigVersion(
        route_server=rs,
        sha256=digest,
        size_bytes=len(data),
        compressed=zlib.compress(data, 6),
        build_id=build_id,
        origin=origin,
    )
    session.add(version)
    return version


def text_of(version: ConfigVersion) -> str:
    """The configuration text of a stored version."""
    return zlib.decompress(version.compressed).decode("utf-8")


# What a route server runs after a push's target ended so: the new version, or (after
# a roll-back, or nothing to do) the version it ran before.
_RUNS_NEW = (TargetState.confirmed,)
_RUNS_PREVIOUS = (TargetState.rolled_back, TargetState.failed, TargetState.unchanged)


def running(session: Session, rs: RouteServer) -> ConfigVersion | None:
    """The version ``rs`` runs as far as the push records know; None before the first push.

    The newest target of ``rs`` that ended in a known state decides: a confirmed
    one left its new version, a rolled-back or refused one its previous version.
    """
    target = session.scalar(
        select(PushTarget)
        .where(
            PushTarget.route_server_id == rs.id,
            PushTarget.state.in_(_RUNS_NEW + _RUNS_PREVIOUS),
        )
        .order_by(PushTarget.id.desc())
        .limit(1)
    )
    if target is None:
        return None
    return target.version if target.state in _RUNS_NEW else target.previous_version
