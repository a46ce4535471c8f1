"""indexes on the member columns of addresses, connections, MACs and session states

A member page reads these by member (MACs by connection, session states by ASN);
without an index every read scanned the whole table, and SQLite built a
temporary index of mac_addresses for each query.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("connections", "member_id"),
    ("lan_addresses", "member_id"),
    ("mac_addresses", "connection_id"),
    ("monitor_session_states", "asn"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
