"""The trash: deleted posts kept whole (row, history, tags as JSON) for TRASH_DAYS.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_trash",
        sa.Column("post_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("deleted_at", sa.DateTime, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name="fk_post_trash_author_id_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name="pk_post_trash"),
    )
    op.create_index("ix_post_trash_author", "post_trash", ["author_id", "deleted_at", "post_id"])
    op.create_index("ix_post_trash_deleted", "post_trash", ["deleted_at"])


def downgrade() -> None:
    op.drop_table("post_trash")
