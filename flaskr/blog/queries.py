"""Reads and single statements on posts; every reader uses visible() for who sees what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.blog.tables import post, post_revision
from flaskr.db import connection, utcnow

COLUMNS = (
    post.c.id,
    post.c.title,
    post.c.body,
    post.c.body_html,
    post.c.render_version,
    post.c.created,
    post.c.published_at,
    post.c.updated,
    post.c.status,
    post.c.version,
    post.c.summary,
    post.c.author_id,
    user.c.username,
)
NEWEST_FIRST = (post.c.published_at.desc(), post.c.id.desc())


def visible(now: datetime | None = None, table: sa.TableClause = post) -> sa.ColumnElement[bool]:
    """The one rule for what readers see: published, and its time has come.

    `table` is post, or a table carrying copies of its status and published_at.
    """
    return sa.and_(table.c.status == "published", table.c.published_at <= (now or utcnow()))


def _with_author() -> sa.FromClause:
    return post.join(user, user.c.id == post.c.author_id)


def list_posts(
    *,
    page: int,
    per_page: int,
    where: sa.ColumnElement[bool] | None = None,
    ids: sa.Select | None = None,
) -> list[RowMapping]:
    """One page of visible posts, newest first, plus one extra row telling if more exist.

    `ids` replaces the page's id query (e.g. a tag's index); it must apply visible().
    """
    # Page through the narrow index first, then fetch the few full rows: deep
    # pages skip index entries, not post bodies.
    if ids is None:
        ids = sa.select(post.c.id).where(visible(), *(() if where is None else (where,)))
        ids = ids.order_by(*NEWEST_FIRST)
    ids = ids.limit(per_page + 1).offset((page - 1) * per_page)
    query = (
        sa.select(*COLUMNS)
        .select_from(_with_author())
        .where(post.c.id.in_(ids.scalar_subquery()))
        .order_by(*NEWEST_FIRST)
    )
    return list(connection().execute(query).mappings())


def find_post(post_id: int, *, for_update: bool = False) -> RowMapping | None:
    """A post with its author's name, whatever its status (locked for a save if asked)."""
    query = sa.select(*COLUMNS).select_from(_with_author()).where(post.c.id == post_id)
    if for_update:
        # Two saves of one post queue here on PostgreSQL (SQLite's write
        # transactions are serialized already), so the later one sees the new version.
        query = query.with_for_update(of=post)
    return connection().execute(query).mappings().first()


def insert_post(**values: Any) -> int:
    """Add a post; return its id."""
    return connection().execute(sa.insert(post).values(**values).returning(post.c.id)).scalar_one()


def update_post(post_id: int, **values: Any) -> None:
    """Change a post's columns."""
    connection().execute(sa.update(post).where(post.c.id == post_id).values(**values))


def update_rendered(post_id: int, body_html: str, summary: str, render_version: int) -> None:
    """Cache a post's rendered HTML and summary."""
    update_post(post_id, body_html=body_html, summary=summary, render_version=render_version)


def delete_post(post_id: int) -> None:
    """Remove a post."""
    connection().execute(sa.delete(post).where(post.c.id == post_id))


def list_own_posts(author_id: int, *, page: int, per_page: int) -> list[RowMapping]:
    """An author's posts in every state (drafts, scheduled, published), newest first."""
    query = (
        sa.select(*COLUMNS)
        .select_from(_with_author())
        .where(post.c.author_id == author_id)
        .order_by(post.c.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())


def find_neighbours(row: RowMapping) -> dict[str, RowMapping | None]:
    """The visible posts just newer and just older than this one (two indexed lookups)."""
    key = sa.tuple_(post.c.published_at, post.c.id)
    here = sa.tuple_(sa.literal(row["published_at"]), sa.literal(row["id"]))
    # Explicit bounds at this post's time let the index walk start here, not
    # at the newest (or oldest) post of the blog.
    newer = (
        sa.select(post.c.id, post.c.title)
        .where(visible(), post.c.published_at >= row["published_at"], key > here)
        .order_by(post.c.published_at, post.c.id)
        .limit(1)
    )
    older = (
        sa.select(post.c.id, post.c.title)
        .where(visible(now=row["published_at"]), key < here)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    )
    conn = connection()
    return {
        "newer": conn.execute(newer).mappings().first(),
        "older": conn.execute(older).mappings().first(),
    }


def insert_revision(**values: Any) -> None:
    """Keep a post's previous version."""
    connection().execute(sa.insert(post_revision).values(**values))


def list_revisions(post_id: int, *, page: int, per_page: int) -> list[RowMapping]:
    """A page of a post's earlier versions, newest first, plus one extra row for paging."""
    query = (
        sa.select(post_revision.c.version, post_revision.c.title, post_revision.c.saved_at)
        .where(post_revision.c.post_id == post_id)
        .order_by(post_revision.c.version.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())


def find_revision(post_id: int, version: int) -> RowMapping | None:
    """One earlier version of a post."""
    query = sa.select(post_revision).where(
        post_revision.c.post_id == post_id, post_revision.c.version == version
    )
    return connection().execute(query).mappings().first()
