"""Likes in SQL: add or take back one account's like of a post, read who liked what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.likes.tables import post_like, post_like_count
from flaskr.policy import public_posts


def add(post_id: int, user_id: int, now: datetime) -> None:
    """Record the like while the post is one readers see; a like already there stays
    as it is (no error, no second count)."""
    conn = connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # The post's visibility is checked by the insert itself: a post unpublished or
    # deleted since the view looked gets no like (and no foreign-key error).
    public = sa.select(
        post.c.id, sa.literal(user_id, sa.Integer), sa.literal(now, sa.DateTime)
    ).where(post.c.id == post_id, public_posts(post, now))
    statement = (
        dialect.insert(post_like)
        .from_select(["post_id", "user_id", "created_at"], public)
        .on_conflict_do_nothing(index_elements=["post_id", "user_id"])
    )
    conn.execute(statement)


def remove(post_id: int, user_id: int) -> None:
    """Take the like back, if there is one."""
    connection().execute(
        sa.delete(post_like).where(post_like.c.post_id == post_id, post_like.c.user_id == user_id)
    )


def count(post_id: int) -> int:
    """The post's like count (0 for a post nobody likes, or one that is gone)."""
    query = sa.select(post_like_count.c.likes).where(post_like_count.c.post_id == post_id)
    return int(connection().execute(query).scalar() or 0)


def count_column(post_id: sa.ColumnElement[int]) -> sa.Label[int]:
    """A post's like count as a column named like_count, for lists (one key lookup a row)."""
    likes = (
        sa.select(post_like_count.c.likes)
        .where(post_like_count.c.post_id == post_id)
        .scalar_subquery()
    )
    return sa.func.coalesce(likes, 0).label("like_count")


def likes(post_id: int, user_id: int) -> bool:
    """True when this account likes this post."""
    query = sa.select(post_like.c.post_id).where(
        post_like.c.post_id == post_id, post_like.c.user_id == user_id
    )
    return connection().execute(query).first() is not None


def likers(post_id: int) -> list[int]:
    """The accounts that like the post (the trash keeps them with it)."""
    query = sa.select(post_like.c.user_id).where(post_like.c.post_id == post_id)
    return list(connection().execute(query).scalars())


def put_back(post_id: int, user_ids: Iterable[int], now: datetime) -> None:
    """Like the post again for each of these accounts that still exists."""
    ids = list(user_ids)
    if not ids:
        return
    existing = sa.select(
        sa.literal(post_id, sa.Integer), user.c.id, sa.literal(now, sa.DateTime)
    ).where(user.c.id.in_(ids))
    connection().execute(
        sa.insert(post_like).from_select(["post_id", "user_id", "created_at"], existing)
    )
