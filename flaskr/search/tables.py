"""The full-text index of posts: one table per database, kept in sync by triggers."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flaskr.db import metadata

#: SQLite: an FTS5 virtual table (made by the migrations, never by create_all);
#: rowid is the post id. FTS5 keeps its data in shadow tables post_fts_*.
post_fts = sa.Table(
    "post_fts",
    metadata,
    sa.Column("title", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("tags", sa.Text),
    sa.Column("author", sa.Text),
    info={"dialect": "sqlite", "fts5": True},
)

#: PostgreSQL: each post's weighted search document (title, tags, author, body).
post_search = sa.Table(
    "post_search",
    metadata,
    sa.Column(
        "post_id",
        sa.Integer,
        sa.ForeignKey("post.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("document", postgresql.TSVECTOR, nullable=False),
    sa.Index("ix_post_search_document", "document", postgresql_using="gin"),
    info={"dialect": "postgresql"},
)


#: SQLite: the published comments' text (migration 0026); rowid is the comment id.
comment_fts = sa.Table(
    "comment_fts",
    metadata,
    sa.Column("body", sa.Text),
    info={"dialect": "sqlite", "fts5": True},
)

#: PostgreSQL: each published comment's search document.
comment_search = sa.Table(
    "comment_search",
    metadata,
    sa.Column(
        "comment_id",
        sa.Integer,
        sa.ForeignKey("comment.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("document", postgresql.TSVECTOR, nullable=False),
    sa.Index("ix_comment_search_document", "document", postgresql_using="gin"),
    info={"dialect": "postgresql"},
)
