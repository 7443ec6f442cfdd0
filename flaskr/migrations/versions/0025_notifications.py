"""Notifications: the emails each account turned off, whether a comment was announced,
and the unsubscribe address an outbox message carries.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_optout",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    # Plain ALTER TABLE ... ADD COLUMN on both databases: the tables keep their triggers.
    # Comments published before this migration count as announced: nobody is mailed
    # about them now.
    op.add_column(
        "comment", sa.Column("announced", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.add_column("outbox", sa.Column("list_unsubscribe", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "list_unsubscribe")
    op.drop_column("comment", "announced")
    op.drop_table("notification_optout")
