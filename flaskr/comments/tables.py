"""Comments: what readers wrote under posts, and each post's count (migration 0023)."""

import sqlalchemy as sa

from flaskr.db import metadata

#: Longest comment (characters of Markdown).
COMMENT_MAX = 5000

#: A comment's status. Readers see `published` ones, and `deleted` ones as
#: "[deleted]" (kept only while replies hang under them). The others are seen
#: by the commenter (`held`) and by those who moderate the post, except
#: `unverified`: a guest's comment whose address is not confirmed yet, seen by nobody.
STATUSES = ("published", "held", "hidden", "spam", "deleted", "unverified")
#: Longest guest name.
GUEST_NAME_MAX = 60

comment = sa.Table(
    "comment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), nullable=False),
    # NULL for "[deleted]" (a removed comment that replies still hang under) and for a
    # guest's comment (guest_name and guest_email say who wrote it).
    sa.Column("author_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE")),
    sa.Column("guest_name", sa.String(GUEST_NAME_MAX)),
    # The address a guest confirmed (or must confirm, while `unverified`).
    sa.Column("guest_email", sa.String(254)),
    # One level of replies: a reply's parent is a comment with no parent.
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("comment.id", ondelete="CASCADE")),
    # The thread it is in: its own id for a top-level comment, its parent's for a
    # reply. A post's comments are paged in (thread_id, id) order, so a page holds
    # a fixed number of comments however many replies one of them has.
    sa.Column("thread_id", sa.Integer),
    sa.Column("body", sa.Text, nullable=False),
    # Rendered (and sanitized) when written: a long thread renders nothing per view.
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    # Why a held comment waits (the screening rule that held it), for moderators.
    sa.Column("held_reason", sa.String(40)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("edited_at", sa.DateTime),
    # Whether the post's author and the parent's author were mailed about it (once,
    # when it was first published: a held comment waits for its approval).
    sa.Column("announced", sa.Boolean, nullable=False, server_default=sa.true()),
    # A post's comments in the order pages show them.
    sa.Index("ix_comment_post", "post_id", "thread_id", "id"),
    sa.Index("ix_comment_parent", "parent_id", "id"),
    # A post's newest comments first: its comment feed.
    sa.Index("ix_comment_post_newest", "post_id", "status", "id"),
    # An account's comments: the first-comment rule, duplicates, cascades.
    sa.Index("ix_comment_author", "author_id", "status", "created_at"),
    # A guest's earlier comments: the first-comment rule, by address.
    sa.Index("ix_comment_guest_email", "guest_email", "status"),
    # The moderation queue: what waits, oldest first.
    sa.Index("ix_comment_status", "status", "id"),
    sqlite_autoincrement=True,
)

# Outside `post`, as likes' count is: lists read it by key, and no write to
# `post` (which would empty every kept page) follows a comment.
post_comment_count = sa.Table(
    "post_comment_count",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("comments", sa.Integer, nullable=False),
)
