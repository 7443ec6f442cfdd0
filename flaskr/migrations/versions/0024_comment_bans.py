"""Comment bans (an account an editor or admin stopped from commenting), and the index
a post's comment feed reads.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: user keeps its triggers.
    op.add_column(
        "user",
        sa.Column("comments_banned", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_comment_post_newest", "comment", ["post_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_comment_post_newest", "comment")
    op.drop_column("user", "comments_banned")
