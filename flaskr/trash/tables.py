"""Deleted posts, kept whole (row, history, tags) for TRASH_DAYS."""

import sqlalchemy as sa

from flaskr.db import metadata

post_trash = sa.Table(
    "post_trash",
    metadata,
    # The post's own id: restoring gives it back, with its address. Ids are never
    # handed out again (migration 0003), so nothing can have taken it meanwhile.
    sa.Column("post_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "author_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("deleted_at", sa.DateTime, nullable=False),
    # JSON: {"post": {column: value}, "revisions": [{column: value}], "tags": [name]}.
    sa.Column("content", sa.Text, nullable=False),
    sa.Index("ix_post_trash_author", "author_id", "deleted_at", "post_id"),
    sa.Index("ix_post_trash_deleted", "deleted_at"),
)
