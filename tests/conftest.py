"""Fixtures: a fresh, migrated database per test on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from ixp import db
from ixp.settings import Settings
from tests import pg

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """One PostgreSQL server for the run, with a migrated template database to copy per test."""
    try:
        server = pg.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE ixp_template"))
    template = db.make_engine(server.url("ixp_template"))
    db.upgrade(template)
    template.dispose()
    admin.dispose()
    yield server
    server.stop()


def _postgres_engine(server: pg.PgServer) -> Engine:
    name = f"ixp_test_{next(_counter)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE ixp_template"))
    admin.dispose()
    return db.make_engine(server.url(name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, migrated database, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ixp.sqlite3'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        return url
    server = request.getfixturevalue("pg_server")
    engine = _postgres_engine(server)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the test's own database and data directory."""
    return Settings(home=tmp_path / "home", database_url=database_url)
