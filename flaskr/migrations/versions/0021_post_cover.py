"""A post's cover picture: shown above it, in lists and in link previews.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: post keeps its triggers.
    op.add_column("post", sa.Column("cover", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("post", "cover")
