"""Reads and single statements on tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from flaskr.db import connection
from flaskr.policy import public_posts
from flaskr.tags.tables import post_tag, tag


def _shown() -> sa.Exists:
    # A tag that only drafts or scheduled posts carry must not give them away:
    # to readers it does not exist yet.
    return sa.exists().where(post_tag.c.tag_id == tag.c.id, public_posts(post_tag))


#: Separates a post's tag names in one column: names never hold control characters.
NAME_SEPARATOR = "\x1f"


def split_names(value: str | None) -> list[str]:
    """The sorted tag names of a post's tag_names column."""
    return sorted(value.split(NAME_SEPARATOR)) if value else []


#: Built once: every list page asks it (the ids are bound when it runs).
_TAGS_FOR_POSTS = (
    sa.select(post_tag.c.post_id, tag.c.name)
    .join(tag, tag.c.id == post_tag.c.tag_id)
    .where(post_tag.c.post_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(tag.c.name)
)


def tags_for_posts(post_ids: Iterable[int]) -> dict[int, list[str]]:
    """The tag names of several posts, in one query."""
    ids = list(post_ids)
    result: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return result
    for post_id, name in connection().execute(_TAGS_FOR_POSTS, {"ids": ids}):
        result[post_id].append(name)
    return result


def list_tags(*, page: int, per_page: int) -> list[RowMapping]:
    """Tags that visible posts carry, by name, with their counts; one extra row for paging."""
    count = (
        sa.select(sa.func.count())
        .select_from(post_tag)
        .where(post_tag.c.tag_id == tag.c.id, public_posts(post_tag))
        .scalar_subquery()
    )
    query = (
        sa.select(tag.c.name, count.label("posts"))
        .where(_shown())
        .order_by(tag.c.name)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())


def ensure_tags(names: list[str]) -> list[int]:
    """The ids of these tags, creating the missing ones."""
    conn = connection()
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    conn.execute(insert(tag).values([{"name": n} for n in names]).on_conflict_do_nothing())
    return list(conn.execute(sa.select(tag.c.id).where(tag.c.name.in_(names))).scalars())


def insert_post_tags(post_id: int, tag_ids: list[int]) -> None:
    """Label a post with tags."""
    connection().execute(sa.insert(post_tag), [{"post_id": post_id, "tag_id": t} for t in tag_ids])


def delete_post_tags(post_id: int) -> None:
    """Remove every tag from a post."""
    connection().execute(sa.delete(post_tag).where(post_tag.c.post_id == post_id))
