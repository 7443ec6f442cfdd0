"""Likes: who liked which post, and each post's count (kept by triggers, migration 0022)."""

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

# The count, outside the post's row on purpose: a change to `post` moves the
# content version (every kept page, every feed's validators), and likes come
# far more often than edits. Lists read it by primary key; no row means none.
post_like_count = sa.Table(
    "post_like_count",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("likes", sa.Integer, nullable=False),
)
