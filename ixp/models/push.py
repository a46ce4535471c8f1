"""Pushes of built configurations to the route servers, and every configuration pushed.

A push is one run of ``ixp push`` (or the nightly timer): it has a row in
``rs_pushes`` from the moment it starts, so a run killed half way is still
there, marked running, for the next run to find and clean up. Each route server
it touches has a row in ``rs_push_targets`` saying how far it got with that one
(the canary first, then the other); the state ``applying`` means the new file
may be in place and BIRD may be running it under its undo timer.

Every configuration that was live on a route server, pushed by ixp or found
there before the first push, is kept once per route server in
``rs_config_versions`` (compressed, with its SHA-256), so the next push can say
what changes against what really runs, and a run that was killed can put the
previous configuration back from the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime, utcnow
from ixp.models.exchange import RouteServer


class PushState(enum.StrEnum):
    """Where a push stands, or how it ended."""

    running = "running"
    """Started and not finished: in progress, or killed (the next run finds out which)."""
    succeeded = "succeeded"
    """Every route server runs the new configuration (or already did)."""
    failed = "failed"
    """A route server refused it, failed its health check or could not be reached."""
    stopped = "stopped"
    """Held for approval before anything was pushed (registry holds, impact preview)."""
    dry_run = "dry-run"
    """Built, compared and previewed; nothing pushed, as asked."""
    interrupted = "interrupted"
    """Killed while running; a later run rolled back what it had started."""


class TargetState(enum.StrEnum):
    """How far a push got with one route server."""

    pending = "pending"
    unchanged = "unchanged"
    """It already ran this configuration (comments aside): nothing to do."""
    skipped = "skipped"
    """Not touched, because a route server before it did not succeed."""
    applying = "applying"
    """Handed to Ansible: the new file may be live and BIRD under its undo timer."""
    confirmed = "confirmed"
    """BIRD runs the new configuration and it was confirmed after a good health check."""
    rolled_back = "rolled-back"
    """Swapped in, then undone (health check failed, or a later run cleaned up)."""
    failed = "failed"
    """Refused before the swap (``bird -p`` or ``configure check`` on the target)."""
    unreachable = "unreachable"
    """SSH could not reach it."""


class ConfigVersion(Base):
    """A configuration that ran on a route server: its text (zlib) and SHA-256."""

    __tablename__ = "rs_config_versions"
    __table_args__ = (UniqueConstraint("route_server_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_server_id: Mapped[int] = mapped_column(
        ForeignKey("route_servers.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    compressed: Mapped[bytes] = mapped_column(LargeBinary)
    build_id: Mapped[int | None] = mapped_column(ForeignKey("rs_builds.id", ondelete="SET NULL"))
    # "build" (made by ixp rs build) or "found" (read from the route server before a push).
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    route_server: Mapped[RouteServer] = relationship()


class PushRecord(Base):
    """One push: who or what started it, the build, what changed, the preview, the outcome."""

    __tablename__ = "rs_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    state: Mapped[PushState] = mapped_column(
        Enum(PushState, native_enum=False, length=16), index=True
    )
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    # The step it is at (build, diff, preview, push rs1, ...): where a killed run stopped.
    stage: Mapped[str] = mapped_column(String(64), default="start")
    reason: Mapped[str | None] = mapped_column(String(2000))
    build_id: Mapped[int | None] = mapped_column(ForeignKey("rs_builds.id", ondelete="SET NULL"))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # Holds, per route server its diff summary and unified diff, and the impact preview.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    targets: Mapped[list[PushTarget]] = relationship(
        back_populates="push", order_by="PushTarget.position", cascade="all, delete-orphan"
    )


class PushTarget(Base):
    """One route server of a push: the configuration it was to get and what became of it."""

    __tablename__ = "rs_push_targets"
    __table_args__ = (UniqueConstraint("push_id", "route_server_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("rs_pushes.id", ondelete="CASCADE"))
    route_server_id: Mapped[int] = mapped_column(
        ForeignKey("route_servers.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[TargetState] = mapped_column(Enum(TargetState, native_enum=False, length=16))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rs_config_versions.id", ondelete="SET NULL")
    )
    previous_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rs_config_versions.id", ondelete="SET NULL")
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(String(2000))
    # What the route server's own checks said: reply codes, health before and after.
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    push: Mapped[PushRecord] = relationship(back_populates="targets")
    route_server: Mapped[RouteServer] = relationship()
    version: Mapped[ConfigVersion | None] = relationship(foreign_keys=[version_id])
    previous_version: Mapped[ConfigVersion | None] = relationship(
        foreign_keys=[previous_version_id]
    )
