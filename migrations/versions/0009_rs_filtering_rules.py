"""route-server filtering rules: members' own rules per peer and address family

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ixp.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rs_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "do_not_announce",
                "announce_only",
                "prepend",
                "do_not_accept",
                name="ruleaction",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("peer_asn", sa.BigInteger(), nullable=True),
        sa.Column(
            "family",
            sa.Enum("ipv4", "ipv6", "both", name="rulefamily", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("prepend", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ixp.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_rs_rules_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rs_rules")),
    )
    with op.batch_alter_table("rs_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rs_rules_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rs_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_rules_member_id"))
    op.drop_table("rs_rules")
