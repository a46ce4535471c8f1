"""alert acknowledgement: who acknowledged an open alert, and when

An operator acknowledges an alert to say it is being dealt with; the alert
stays open until its condition clears.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ixp.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("acknowledged_at", ixp.models.base.UtcDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("monitor_alerts", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by")
