"""filtered routes as the monitor last read them, so members' pages never walk BIRD's table

On a route server of a million routes, BIRD 2.0 finds one session's filtered
routes only by walking its whole table (seconds of its CPU), and every web worker
asking for itself made it walk again. The monitor reads them in one walk a round
and keeps them here; the pages and the API read this table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ixp.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_filtered_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_server_id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("next_hop", sa.String(length=64), nullable=True),
        sa.Column("as_path", sa.Text(), nullable=False),
        sa.Column("communities", sa.Text(), nullable=False),
        sa.Column("large_communities", sa.Text(), nullable=False),
        sa.Column("since", ixp.models.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_server_id"],
            ["route_servers.id"],
            name=op.f("fk_monitor_filtered_routes_route_server_id_route_servers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_filtered_routes")),
        sa.UniqueConstraint(
            "route_server_id",
            "protocol",
            "prefix",
            name=op.f("uq_monitor_filtered_routes_route_server_id_protocol_prefix"),
        ),
    )
    op.create_index(
        "ix_monitor_filtered_routes_member",
        "monitor_filtered_routes",
        ["asn", "route_server_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_monitor_filtered_routes_member", table_name="monitor_filtered_routes")
    op.drop_table("monitor_filtered_routes")
