"""Posts."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from flaskr.blog.slugs import SLUG_MAX
from flaskr.db import metadata

TITLE_MAX = 200
BODY_MAX = 100_000
#: Longest excerpt an author may write (characters of Markdown).
EXCERPT_MAX = 1000

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
    # The author's own address words (NULL: made from the title) and list excerpt
    # (Markdown; NULL: the body up to <!--more--> or its first words).
    sa.Column("slug", sa.String(SLUG_MAX)),
    sa.Column("excerpt", sa.Text),
    # When the editor last saved this draft by itself (NULL: the last save was
    # the author's): a run of autosaves keeps one version in the history.
    sa.Column("autosaved_at", sa.DateTime),
    # Who saved this version (an editor may save another's post). A plain number, as
    # in the audit log: the history outlives the account. NULL: saved before flaskr
    # recorded it, or by a script.
    sa.Column("saved_by", sa.Integer, nullable=True),
    # The picture above the post, in lists and link previews: Markdown naming one
    # upload, ![alt](/media/KEY) (NULL: none).
    sa.Column("cover", sa.Text),
    # The language the post is written in (NULL: the site's): its lang, feeds and hreflang.
    sa.Column("language", sa.String(16)),
    # The author closed the post to new comments (comments/: the site may also
    # close old posts, COMMENTS_CLOSE_AFTER_DAYS).
    sa.Column("comments_closed", sa.Boolean, nullable=False, server_default=sa.false()),
    # The post's tag names, separated by tags.queries.NAME_SEPARATOR (NULL: none),
    # written by database triggers whenever its tags change (migration 0028):
    # lists read them off the row instead of joining post_tag and tag per post.
    sa.Column("tag_names", sa.Text),
    sa.Index("ix_post_published", "status", "published_at", "id"),
    sa.Index("ix_post_author", "author_id", "published_at", "id"),
    sa.Index("ix_post_status_author", "author_id", "status", "id"),
    # A deleted post's id is never handed out again: its address and feed
    # entry must not turn into another post's (PostgreSQL's sequences never go back).
    sqlite_autoincrement=True,
)


class UtcNow(sa.sql.functions.FunctionElement[datetime]):
    """The database's clock in UTC, below the second (SQLite's CURRENT_TIMESTAMP has seconds)."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(UtcNow, "sqlite")
def _utc_now_sqlite(_element: UtcNow, _compiler: Any, **_kw: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"


@compiles(UtcNow, "postgresql")
def _utc_now_postgresql(_element: UtcNow, _compiler: Any, **_kw: Any) -> str:
    # When the statement runs (not when its transaction began), whatever the
    # session's time zone: plain-SQL sessions may have another one.
    return "(clock_timestamp() AT TIME ZONE 'UTC')"


#: One row (id 1) whose version database triggers bump on every write that
#: readers could see (posts, tags, users): the page cache's freshness key.
content_version = sa.Table(
    "content_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    # When a trigger last bumped the version: feeds' Last-Modified moves with it.
    sa.Column("changed_at", sa.DateTime, nullable=False, server_default=UtcNow()),
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
    sa.Column("saved_by", sa.Integer, nullable=True),  # as post.saved_by
    sa.UniqueConstraint("post_id", "version"),
)
