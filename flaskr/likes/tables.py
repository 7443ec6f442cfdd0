"""Likes: who liked which post. Each post's count is kept beside it (post.like_count)."""

import sqlalchemy as sa

from flaskr.db import metadata

post_like = sa.Table(
    "post_like",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # An account's likes go with it: found by user without a scan.
    sa.Index("ix_post_like_user", "user_id"),
)
