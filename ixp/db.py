"""Engine and session factory; the session is always passed in, never global.

``transaction`` is the one way the service layer writes: it validates inside,
commits once at the end, and rolls everything back on any error, so a failed
command leaves the database exactly as it was.

A database URL may carry a password: ``masked_url`` is the only way a URL is
shown to anyone (messages, logs), and ``reported_errors`` turns a database that
cannot be used into one domain error naming the masked URL.
"""

from __future__ import annotations

import importlib.resources
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ixp import versions
from ixp.errors import Conflict, Remedy, SourceUnavailable, ValidationError
from ixp.settings import Settings

# How long an SQLite writer waits for another one to finish before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# The database itself is unusable (down, refused, locked, unreadable file), as
# opposed to a query that is wrong, which stays a bug with its traceback.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
# SQLite reports a wrong query as an OperationalError too; its primary result
# codes tell the file's troubles apart: PERM, BUSY, LOCKED, NOMEM, READONLY,
# IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
_SQLITE_UNUSABLE = frozenset({3, 5, 6, 7, 8, 10, 11, 13, 14, 15, 26})
_PG_UNDEFINED_TABLE = "42P01"
_PG_UNIQUE_VIOLATION = "23505"
# user:password@ in a string that is not a well-formed URL.
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def masked_url(url: str) -> str:
    """``url`` as safe to print or log: the password, if any, replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        return _PASSWORD_IN_TEXT.sub(r"\1***@", url)


def _without_password(text: str, url: str) -> str:
    """``text`` with ``url``'s password masked wherever a driver may have echoed it."""
    try:
        password = make_url(url).password
    except (sa_exc.ArgumentError, ValueError):
        password = None
    return text.replace(password, "***") if password else text


def _first_line(exc: BaseException | None) -> str:
    lines = str(exc).strip().splitlines() if exc is not None else []
    return lines[0].strip() if lines else type(exc).__name__


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _has_no_schema(exc: sa_exc.DBAPIError) -> bool:
    """The query ran against a database that ``ixp db upgrade`` never set up."""
    return _sqlstate(exc) == _PG_UNDEFINED_TABLE or _first_line(exc.orig).startswith(
        "no such table"
    )


def _is_unique_violation(exc: sa_exc.IntegrityError) -> bool:
    return _sqlstate(exc) == _PG_UNIQUE_VIOLATION or _first_line(exc.orig).startswith(
        "UNIQUE constraint failed"
    )


def _unique_detail(exc: sa_exc.IntegrityError) -> str:
    """What collided: PostgreSQL's DETAIL line (key and value), SQLite's column list."""
    diag = getattr(exc.orig, "diag", None)
    detail = getattr(diag, "message_detail", None)
    return detail or _first_line(exc.orig)


def _unusable_reason(exc: sa_exc.SQLAlchemyError) -> str | None:
    """Why the database cannot be used, or None when ``exc`` is a wrong query (a bug)."""
    if isinstance(exc, sa_exc.DBAPIError) and _has_no_schema(exc):
        return f"has no ixp schema ({_first_line(exc.orig)})"
    if isinstance(exc, sa_exc.DBAPIError) and isinstance(exc.orig, sqlite3.Error):
        code = getattr(exc.orig, "sqlite_errorcode", None)
        unusable = code is not None and code & 0xFF in _SQLITE_UNUSABLE
        return _first_line(exc.orig) if unusable else None
    if isinstance(exc, _UNAVAILABLE):
        return _first_line(exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc)
    return None


@contextmanager
def reported_errors(url: str) -> Iterator[None]:
    """Turn a database that cannot be used into a domain error naming its (masked) URL.

    Unreachable, refused, locked or unreadable: ``SourceUnavailable``. No
    schema yet: the same, with the remedy ``DB_UPGRADE``. A unique key taken
    by a concurrent writer between our check and our write: ``Conflict``.
    Anything else (a wrong query) is a bug and keeps its traceback.
    """
    where = f"database: {masked_url(url)}"
    try:
        yield
    except sa_exc.IntegrityError as exc:
        if not _is_unique_violation(exc):
            raise
        detail = _without_password(_unique_detail(exc), url)
        raise Conflict(
            f"{where}: a concurrent change took the same key ({detail}); nothing was written"
        ) from exc
    except sa_exc.SQLAlchemyError as exc:
        reason = _unusable_reason(exc)
        if reason is None:
            raise
        no_schema = isinstance(exc, sa_exc.DBAPIError) and _has_no_schema(exc)
        raise SourceUnavailable(
            f"{where}: {_without_password(reason, url)}",
            hint=Remedy.DB_UPGRADE if no_schema else None,
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    """SQLite ignores foreign keys unless told per connection; WAL lets readers run alongside."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _create_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its directory; a directory that cannot be made is
    reported like an unreachable server."""
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = f"cannot create directory {Path(path).parent}: {exc.strerror or exc}"
        raise SourceUnavailable(f"database: {masked_url(url)}: {reason}") from None


def _refuse_nul(url: str) -> None:
    """A NUL (``%00``) in any part of the URL: C drivers cut the string there and fail
    later with a message about something else (psycopg: an unterminated quoted string)."""
    parsed = make_url(url)
    parts = [parsed.username, parsed.password, parsed.host, parsed.database]
    parts += [str(value) for value in parsed.query.values()]
    if any(part and "\x00" in part for part in parts):
        raise ValueError("it contains a NUL character (%00)")


def _pool(url: str, connections: int | None) -> dict[str, Any]:
    """Pool arguments for exactly ``connections`` connections (None: SQLAlchemy's default).

    The connection used last is handed out first: its caches are warm (SQLite keeps
    a page cache per connection), and the rest may idle until the server drops them.
    An in-memory SQLite database has one connection per thread and no pool to size.
    """
    if connections is None or make_url(url).database in (None, "", ":memory:"):
        return {}
    return {"pool_size": connections, "max_overflow": 0, "pool_timeout": 30, "pool_use_lifo": True}


def make_engine(url: str, *, connections: int | None = None) -> Engine:
    """An engine for ``url`` with the per-backend settings ixp relies on, and a pool of
    ``connections`` connections when given (the web server sizes it to its requests).

    A malformed URL, an unknown dialect or a driver that is not installed is a
    ValidationError of ``database_url`` (password masked), not a traceback.
    """
    sqlite = url.startswith("sqlite")
    if sqlite:
        _create_sqlite_directory(url)
    try:
        _refuse_nul(url)
        pool = _pool(url, connections)
        if not sqlite:
            return create_engine(url, pool_pre_ping=True, **pool)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **pool)
    except (sa_exc.ArgumentError, ValueError, ImportError) as exc:
        reason = _without_password(_first_line(exc), url)
        raise ValidationError(
            "database_url",
            masked_url(url),
            f"is not a usable database URL (dialect+driver://user:password@host/name): {reason}",
        ) from None
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def engine_from_settings(settings: Settings) -> Engine:
    """The engine for the configured database."""
    return make_engine(settings.effective_database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the CLI prints them afterwards)
    and raise the data versions of what they change (``ixp.versions``)."""
    return versions.track(sessionmaker(engine, expire_on_commit=False))


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit everything done inside at once, or nothing if anything raises.

    Nested uses join the outermost one, so a bulk operation (an IX-F import
    calling ``add_member`` per member) commits once or not at all.
    """
    depth = session.info.get("ixp_transaction_depth", 0)
    session.info["ixp_transaction_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["ixp_transaction_depth"] = depth


def alembic_config(engine: Engine) -> Any:
    """An Alembic config bound to ``engine`` (used by ``ixp db upgrade`` and the tests)."""
    from alembic.config import Config

    config = Config()
    # The top-level migrations/ folder, shipped inside the package (see setup.py).
    config.set_main_option("script_location", str(importlib.resources.files("ixp.migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema of ``engine``'s database to ``revision``."""
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(engine), revision)
    except CommandError as exc:
        raise ValidationError("revision", revision, f"cannot be applied: {exc}") from None
