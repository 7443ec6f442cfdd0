"""The audit log table: admin actions, role changes, resets, failed logins.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("target_id", sa.Integer, nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("details", sa.Text, nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at", "id"])
    op.create_index("ix_audit_log_event", "audit_log", ["event", "at", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
