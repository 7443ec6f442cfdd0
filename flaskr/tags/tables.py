"""Tags and the posts they label."""

import sqlalchemy as sa

from flaskr.db import metadata

TAG_MAX = 40
TAGS_PER_POST = 10

tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(TAG_MAX), nullable=False, unique=True),
)

post_tag = sa.Table(
    "post_tag",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    # The post's status and published_at, copied by triggers so a tag's posts
    # page and count straight off one index.
    sa.Column("status", sa.String(10), nullable=False, server_default="published"),
    sa.Column("published_at", sa.DateTime),
    sa.Index("ix_post_tag_visible", "tag_id", "status", "published_at", "post_id"),
)
