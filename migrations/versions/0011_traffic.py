"""traffic: the member-to-member matrix, ports, agents and unknown MACs in 5-minute buckets
with hourly and daily rollups, and members' monthly international traffic (issue 12)

Members are kept by ASN (the history outlives a member's removal) and buckets as integer
seconds; on SQLite the bucket tables are WITHOUT ROWID (see ixp/models/traffic.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ixp.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_agents",
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("agent", sa.String(length=45), nullable=False),
        sa.Column("datagrams", sa.BigInteger(), nullable=False),
        sa.Column("malformed", sa.BigInteger(), nullable=False),
        sa.Column("lost", sa.BigInteger(), nullable=False),
        sa.Column("late", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("restarts", sa.BigInteger(), nullable=False),
        sa.Column("flow_samples", sa.BigInteger(), nullable=False),
        sa.Column("counter_samples", sa.BigInteger(), nullable=False),
        sa.Column("other_samples", sa.BigInteger(), nullable=False),
        sa.Column("unattributed_samples", sa.BigInteger(), nullable=False),
        sa.Column("not_ingress_samples", sa.BigInteger(), nullable=False),
        sa.Column("missed_samples", sa.BigInteger(), nullable=False),
        sa.Column("dropped_samples", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resolution", "start", "agent", name=op.f("pk_traffic_agents")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "traffic_international",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("international", "total", name="figurekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_at", ixp.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_international")),
        sa.UniqueConstraint("asn", "month", name=op.f("uq_traffic_international_asn_month")),
    )
    op.create_table(
        "traffic_pairs",
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("src_asn", sa.BigInteger(), nullable=False),
        sa.Column("dst_asn", sa.BigInteger(), nullable=False),
        sa.Column("samples4", sa.BigInteger(), nullable=False),
        sa.Column("packets4", sa.BigInteger(), nullable=False),
        sa.Column("bytes4", sa.BigInteger(), nullable=False),
        sa.Column("samples6", sa.BigInteger(), nullable=False),
        sa.Column("packets6", sa.BigInteger(), nullable=False),
        sa.Column("bytes6", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resolution", "start", "src_asn", "dst_asn", name=op.f("pk_traffic_pairs")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "traffic_ports",
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("agent", sa.String(length=45), nullable=False),
        sa.Column("if_index", sa.BigInteger(), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=True),
        sa.Column("in_samples", sa.BigInteger(), nullable=False),
        sa.Column("in_packets", sa.BigInteger(), nullable=False),
        sa.Column("in_bytes", sa.BigInteger(), nullable=False),
        sa.Column("in_bytes4", sa.BigInteger(), nullable=False),
        sa.Column("in_bytes6", sa.BigInteger(), nullable=False),
        sa.Column("out_samples", sa.BigInteger(), nullable=False),
        sa.Column("out_packets", sa.BigInteger(), nullable=False),
        sa.Column("out_bytes", sa.BigInteger(), nullable=False),
        sa.Column("out_bytes4", sa.BigInteger(), nullable=False),
        sa.Column("out_bytes6", sa.BigInteger(), nullable=False),
        sa.Column("foreign_samples", sa.BigInteger(), nullable=False),
        sa.Column("counter_readings", sa.BigInteger(), nullable=False),
        sa.Column("counter_ms", sa.BigInteger(), nullable=False),
        sa.Column("counter_in_octets", sa.BigInteger(), nullable=False),
        sa.Column("counter_in_packets", sa.BigInteger(), nullable=False),
        sa.Column("counter_out_octets", sa.BigInteger(), nullable=False),
        sa.Column("counter_out_packets", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resolution", "start", "agent", "if_index", name=op.f("pk_traffic_ports")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "traffic_rollups",
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("done_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resolution", name=op.f("pk_traffic_rollups")),
    )
    op.create_table(
        "traffic_unknown_macs",
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("role", sa.Enum("src", "dst", name="macrole", native_enum=False), nullable=False),
        sa.Column("agent", sa.String(length=45), nullable=False),
        sa.Column("if_index", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "start", "mac", "role", "agent", "if_index", name=op.f("pk_traffic_unknown_macs")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("traffic_unknown_macs")
    op.drop_table("traffic_rollups")
    op.drop_table("traffic_ports")
    op.drop_table("traffic_pairs")
    op.drop_table("traffic_international")
    op.drop_table("traffic_agents")
