"""Who saved each version of a post: history says "by alice" when an editor saved it.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: post keeps its triggers.
    # Versions saved before this are left unattributed, not guessed to be the author's.
    op.add_column("post", sa.Column("saved_by", sa.Integer, nullable=True))
    op.add_column("post_revision", sa.Column("saved_by", sa.Integer, nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, without rebuilding the table.
    op.drop_column("post_revision", "saved_by")
    op.drop_column("post", "saved_by")
