"""Pictures: uploads, the files made from each, and which posts show them.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey("user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("alt", sa.Text, nullable=False),
        sa.Column("decorative", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_media_owner", "media", ["owner_id", "created_at", "id"])
    op.create_index("ix_media_created", "media", ["created_at", "id"])
    op.create_table(
        "media_file",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column(
            "media_id",
            sa.Integer,
            sa.ForeignKey("media.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_media_file_media", "media_file", ["media_id"])
    op.create_table(
        "media_use",
        sa.Column(
            "media_id",
            sa.Integer,
            sa.ForeignKey("media.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "post_id",
            sa.Integer,
            sa.ForeignKey("post.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_media_use_post", "media_use", ["post_id"])


def downgrade() -> None:
    op.drop_table("media_use")
    op.drop_table("media_file")
    op.drop_table("media")
