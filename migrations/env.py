"""Alembic environment: the engine comes from the caller or from ixp's settings."""

from __future__ import annotations

from alembic import context

from ixp.db import engine_from_settings
from ixp.models import Base
from ixp.settings import get_settings

config = context.config
engine = config.attributes.get("engine") or engine_from_settings(get_settings())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
