"""Audit log bursts: a run of the same failed login from one address is one entry.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("times", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    # SQLite rebuilds the table to drop a column: it keeps never reusing ids.
    with op.batch_alter_table("audit_log", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("last_at")
        batch.drop_column("times")
