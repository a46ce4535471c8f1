"""The migrations build the schema the models describe, on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from ixp import db
from ixp.models import Base


def test_upgrade_from_empty_creates_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(engine: Engine) -> None:
    command.check(db.alembic_config(engine))
