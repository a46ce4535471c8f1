"""Fixtures: a fresh, migrated database per test on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import accounts, db
from ixp.settings import Settings, get_settings
from tests import pg

_counter = itertools.count()

# Property-based tests run on loaded 2-core machines: no per-example deadline
# (timing is what bench/ measures), a fixed example budget so a run's length is
# predictable, and no example database left in the checkout.
hypothesis_settings.register_profile(
    "ixp",
    deadline=None,
    max_examples=200,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
hypothesis_settings.load_profile("ixp")

# What production hashes passwords with (pinned by tests/unit/test_accounts.py).
PRODUCTION_PASSWORDS = accounts.passwords


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its lowest cost: the suite makes and checks hundreds of passwords, and
    the production cost (a third of a second each, by design) would add minutes."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "passwords", accounts.Passwords(cheap))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """One PostgreSQL server for the run, with a migrated template database to copy per test."""
    try:
        server = pg.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    _admin(server, "CREATE DATABASE ixp_template")
    template = db.make_engine(server.url("ixp_template"))
    db.upgrade(template)
    template.dispose()
    yield server
    server.stop()


def _admin(server: pg.PgServer, statement: str) -> None:
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database to copy per test: running every migration for every
    test cost more than most tests (SQLite rebuilds a table for each column it alters)."""
    path = tmp_path_factory.mktemp("template") / "ixp.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()  # the last connection to close writes the WAL back into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database, once per backend (dropped afterwards)."""
    if request.param == "sqlite":
        path = tmp_path / "ixp.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"ixp_test_{next(_counter)}"
    _admin(server, f"CREATE DATABASE {name} TEMPLATE ixp_template")
    yield server.url(name)
    _admin(server, f"DROP DATABASE {name} WITH (FORCE)")


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
def cli(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[CliRunner]:
    """A runner whose ``ixp`` commands use the test's database and data directory."""
    monkeypatch.setenv("IXP_DATABASE_URL", database_url)
    monkeypatch.setenv("IXP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IXP_MONITOR_METRICS_PORT", "0")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the test's own database and data directory."""
    return Settings(home=tmp_path / "home", database_url=database_url)


TESTS = Path(__file__).resolve().parent
LAB_MARK = "pytest.mark.netns"


def lab_modules(root: Path = TESTS) -> frozenset[str]:
    """The test modules that run a lab (marked ``netns``), as node ids name them."""
    return frozenset(
        str(path.relative_to(root.parent))
        for path in root.rglob("test_*.py")
        if LAB_MARK in path.read_text(encoding="utf-8")
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``pytest -n N --dist loadgroup`` (``make test``): every test module runs whole on
    one worker (module fixtures such as a lab are made once), and the modules that run a
    lab all on the same worker, one after another: two labs of BIRD and ExaBGP daemons at
    once on two cores would make their timeouts a matter of luck. The rest of the suite
    runs beside them. (xdist's own ``xdist_group`` marks do not reach its scheduler under
    pytest 9.2, whose node ids no longer come from the attribute xdist rewrites.)"""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    labs = lab_modules(Path(config.rootpath) / "tests")

    class LabsApart(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "lab" if module in labs else module

    return LabsApart(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every component is installed, so a skipped test is a gap: fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(f"CI: {skipped} test(s) skipped; every component must be present")
