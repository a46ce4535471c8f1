"""Fixtures of the route-server build tests: the demo exchange, and the CLI pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.settings import Settings, get_settings
from tests.rs.exchange import build_exchange


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    """Settings with a collector, as the lab and production use them."""
    return settings.model_copy(
        update={"collector_ipv4": "185.1.0.250", "collector_ipv6": "2001:7f8:ff::250"}
    )


@pytest.fixture
def demo(session: Session, demo_settings: Settings) -> Session:
    """The demo exchange (tests/rs/exchange.py) in a fresh database."""
    build_exchange(session, demo_settings)
    return session


@pytest.fixture
def demo_cli(
    monkeypatch: pytest.MonkeyPatch, demo: Session, demo_settings: Settings
) -> Iterator[CliRunner]:
    """A CLI runner whose commands see the demo exchange's database."""
    monkeypatch.setenv("IXP_DATABASE_URL", demo_settings.effective_database_url)
    monkeypatch.setenv("IXP_HOME", str(demo_settings.home))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
