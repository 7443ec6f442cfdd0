"""Posts."""

import sqlalchemy as sa

from flaskr.db import metadata

TITLE_MAX = 200
BODY_MAX = 100_000

post = sa.Table(
    "post",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "author_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # 'draft' or 'published'; a published post with a future published_at is scheduled.
    sa.Column("status", sa.String(10), nullable=False, server_default="published"),
    sa.Column("published_at", sa.DateTime),
    sa.Column("updated", sa.DateTime),
    # Rendered Markdown, rebuilt when NULL or when render_version is behind the renderer.
    sa.Column("body_html", sa.Text),
    sa.Column("render_version", sa.Integer, nullable=False, server_default="0"),
    # Bumped on every save: optimistic concurrency for the editor.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    # Plain-text opening of the body, for feeds, meta descriptions and search-less lists.
    sa.Column("summary", sa.Text),
    sa.Index("ix_post_published", "status", "published_at", "id"),
    sa.Index("ix_post_author", "author_id", "published_at", "id"),
    sa.Index("ix_post_status_author", "author_id", "status", "id"),
    # A deleted post's id is never handed out again: its address and feed
    # entry must not turn into another post's (PostgreSQL's sequences never go back).
    sqlite_autoincrement=True,
)

#: One row (id 1) whose version database triggers bump on every write that
#: readers could see (posts, tags, users): the page cache's freshness key.
content_version = sa.Table(
    "content_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

#: A post as it was before each save; restoring one is itself a new save.
post_revision = sa.Table(
    "post_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False, server_default=""),
    sa.Column("saved_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("post_id", "version"),
)
