"""push records: every push, what it did per route server, every configuration pushed

A push (ixp push, the nightly timer) is recorded from the moment it starts, so a
run killed half way is found and cleaned up by the next; each configuration that
ran on a route server is kept once, compressed, with its SHA-256.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ixp.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rs_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("started_at", ixp.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ixp.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                "stopped",
                "dry_run",
                "interrupted",
                name="pushstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("build_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["rs_builds.id"],
            name=op.f("fk_rs_pushes_build_id_rs_builds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_rs_pushes_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rs_pushes")),
    )
    with op.batch_alter_table("rs_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rs_pushes_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_rs_pushes_state"), ["state"], unique=False)

    op.create_table(
        "rs_config_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_server_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("compressed", sa.LargeBinary(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", ixp.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["rs_builds.id"],
            name=op.f("fk_rs_config_versions_build_id_rs_builds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["route_server_id"],
            ["route_servers.id"],
            name=op.f("fk_rs_config_versions_route_server_id_route_servers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rs_config_versions")),
        sa.UniqueConstraint(
            "route_server_id", "sha256", name=op.f("uq_rs_config_versions_route_server_id_sha256")
        ),
    )
    with op.batch_alter_table("rs_config_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rs_config_versions_route_server_id"), ["route_server_id"], unique=False
        )

    op.create_table(
        "rs_push_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("route_server_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "unchanged",
                "skipped",
                "applying",
                "confirmed",
                "rolled_back",
                "failed",
                "unreachable",
                name="targetstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("previous_version_id", sa.Integer(), nullable=True),
        sa.Column("started_at", ixp.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", ixp.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("health", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["previous_version_id"],
            ["rs_config_versions.id"],
            name=op.f("fk_rs_push_targets_previous_version_id_rs_config_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["push_id"],
            ["rs_pushes.id"],
            name=op.f("fk_rs_push_targets_push_id_rs_pushes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["route_server_id"],
            ["route_servers.id"],
            name=op.f("fk_rs_push_targets_route_server_id_route_servers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["rs_config_versions.id"],
            name=op.f("fk_rs_push_targets_version_id_rs_config_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rs_push_targets")),
        sa.UniqueConstraint(
            "push_id", "route_server_id", name=op.f("uq_rs_push_targets_push_id_route_server_id")
        ),
    )
    with op.batch_alter_table("rs_push_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rs_push_targets_route_server_id"), ["route_server_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rs_push_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_push_targets_route_server_id"))

    op.drop_table("rs_push_targets")
    with op.batch_alter_table("rs_config_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_config_versions_route_server_id"))

    op.drop_table("rs_config_versions")
    with op.batch_alter_table("rs_pushes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_pushes_state"))
        batch_op.drop_index(batch_op.f("ix_rs_pushes_started_at"))

    op.drop_table("rs_pushes")
