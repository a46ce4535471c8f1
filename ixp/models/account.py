"""Who may use the web API and portal: users, their API tokens, failed logins; and builds.

A user is an operator (everything) or belongs to one member (its own network
only). Passwords and tokens are stored only as hashes. Failed logins are kept
in the database, not in a process, so the rate limit holds across workers.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ixp.models.base import Base, UtcDateTime, utcnow
from ixp.models.member import Member


class Role(enum.StrEnum):
    """What a signed-in user may do; anyone not signed in is the public."""

    operator = "operator"
    member = "member"


class User(Base):
    """A person (or a program, through its tokens) who signs in to the API or portal."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    # Bumped by a password change: browser sessions signed before it stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    member: Mapped[Member | None] = relationship()


class ApiToken(Base):
    """A bearer token of one user: shown once, stored as a hash, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public half of the token, to find the row without scanning every hash.
    key: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed sign-in, by account name and by client address, for the rate limit."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)


class BuildRecord(Base):
    """One run of the route-server configuration build, with its per-member summary."""

    __tablename__ = "rs_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    ok: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(String(2000))
    route_servers: Mapped[int] = mapped_column(default=0)
    members: Mapped[int] = mapped_column(default=0)
    # BuildReport.to_dict(): route servers, files, per-member summary.
    report: Mapped[dict[str, object] | None] = mapped_column(JSON)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
