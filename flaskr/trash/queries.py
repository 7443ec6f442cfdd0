"""SQL for the trash: taking a post's rows out whole, and putting them back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.blog.tables import post, post_revision
from flaskr.comments import queries as comment_queries
from flaskr.comments.tables import comment
from flaskr.db import connection, utcnow
from flaskr.likes import queries as like_queries
from flaskr.tags.queries import tags_for_posts
from flaskr.trash.tables import post_trash


def _plain(row: RowMapping, table: sa.Table) -> dict[str, Any]:
    """A row as JSON can hold it: datetimes as ISO text."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in row.items()
        if name in table.c
    }


def _typed(values: dict[str, Any], table: sa.Table) -> dict[str, Any]:
    """_plain() undone: ISO text back to datetimes for DateTime columns."""
    return {
        name: datetime.fromisoformat(value)
        if value is not None and isinstance(table.c[name].type, sa.DateTime)
        else value
        for name, value in values.items()
        if name in table.c
    }


def snapshot(post_id: int) -> tuple[RowMapping, str] | None:
    """A post's row and its whole content as JSON (row, revisions, tags); None if gone."""
    conn = connection()
    # Locked (PostgreSQL; SQLite's write transaction holds the whole database): a
    # save committed meanwhile would otherwise be deleted without being kept.
    row = (
        conn.execute(sa.select(post).where(post.c.id == post_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        return None
    revisions = conn.execute(
        sa.select(post_revision)
        .where(post_revision.c.post_id == post_id)
        .order_by(post_revision.c.version)
    ).mappings()
    content = {
        "post": _plain(row, post),
        "revisions": [_plain(revision, post_revision) for revision in revisions],
        "tags": tags_for_posts([post_id]).get(post_id, []),
        "likes": like_queries.likers(post_id),
        "comments": [_plain(row, comment) for row in comment_queries.rows_of(post_id)],
    }
    return row, json.dumps(content)


def insert_trashed(row: RowMapping, content: str, deleted_at: datetime) -> None:
    """Keep a post's snapshot in the trash."""
    connection().execute(
        sa.insert(post_trash).values(
            post_id=row["id"],
            author_id=row["author_id"],
            title=row["title"],
            deleted_at=deleted_at,
            content=content,
        )
    )


def find_trashed(post_id: int, since: datetime, *, for_update: bool = False) -> RowMapping | None:
    """A trashed post deleted after `since` (older ones are as good as purged).

    for_update locks it for the transaction: two restores at once put it back once.
    """
    query = sa.select(post_trash).where(
        post_trash.c.post_id == post_id, post_trash.c.deleted_at >= since
    )
    if for_update:
        query = query.with_for_update()
    return connection().execute(query).mappings().first()


def list_trashed(author_id: int, since: datetime, *, page: int, per_page: int) -> list[RowMapping]:
    """An author's trashed posts deleted after `since`, most recently deleted first."""
    query = (
        sa.select(post_trash.c.post_id, post_trash.c.title, post_trash.c.deleted_at)
        .where(post_trash.c.author_id == author_id, post_trash.c.deleted_at >= since)
        .order_by(post_trash.c.deleted_at.desc(), post_trash.c.post_id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())


def put_back(content: str, author_id: int) -> tuple[int, list[str]]:
    """Insert a trashed post's row and history again, as `author_id`'s; its id and its
    tag names."""
    kept = json.loads(content)
    conn = connection()
    values = _typed(kept["post"], post)
    # The trash row's author, not the snapshot's: an admin who deleted an account may
    # have given its posts, trash included, to another.
    values["author_id"] = author_id
    conn.execute(sa.insert(post).values(**values))
    # New row ids for the history (the post's own id and versions stay): SQLite may
    # have handed the old ones to other posts' history meanwhile.
    revisions = [
        _typed({k: v for k, v in revision.items() if k != "id"}, post_revision)
        for revision in kept["revisions"]
    ]
    if revisions:
        conn.execute(sa.insert(post_revision), revisions)
    # Counted again by their triggers as they go in; deleted accounts lose theirs.
    like_queries.put_back(values["id"], kept.get("likes", []), utcnow())
    comment_queries.put_back([_typed(row, comment) for row in kept.get("comments", [])])
    return values["id"], list(kept["tags"])


def delete_trashed(post_id: int) -> list[str]:
    """Remove a post from the trash for good; the content of what went (none or one)."""
    query = sa.delete(post_trash).where(post_trash.c.post_id == post_id)
    return list(connection().execute(query.returning(post_trash.c.content)).scalars())


def purge_before(cutoff: datetime) -> list[str]:
    """Remove every trashed post deleted before cutoff; the content of each that went."""
    query = sa.delete(post_trash).where(post_trash.c.deleted_at < cutoff)
    return list(connection().execute(query.returning(post_trash.c.content)).scalars())


def trashed_showing(author_id: int, address: str) -> list[RowMapping]:
    """An author's posts in the trash whose saved content holds this address (id, title)."""
    query = (
        sa.select(post_trash.c.post_id.label("id"), post_trash.c.title)
        .where(
            post_trash.c.author_id == author_id,
            post_trash.c.content.contains(address, autoescape=True),
        )
        .order_by(post_trash.c.post_id)
    )
    return list(connection().execute(query).mappings())
