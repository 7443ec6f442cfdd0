"""Invitations: single-use registration links, stored hashed, with an expiry and a role.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        sa.Column("used_by", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL")),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_invite_created", "invite", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("invite")
