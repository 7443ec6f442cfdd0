"""SQL for the date archives: posts per month, and one month's posts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from flaskr.blog.queries import COLUMNS, NEWEST_FIRST, WITH_AUTHOR
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.db.prepared import Prepared, Row, once_per_app
from flaskr.policy import public_posts

_NOW = sa.bindparam("now", type_=sa.DateTime())
_START = sa.bindparam("start", type_=sa.DateTime())
_END = sa.bindparam("end", type_=sa.DateTime())


def _month_counts() -> sa.Select[int, int, int]:
    year = sa.extract("year", post.c.published_at)
    month = sa.extract("month", post.c.published_at)
    return (
        sa.select(year.label("year"), month.label("month"), sa.func.count().label("posts"))
        .where(public_posts(post, _NOW))
        .group_by(year, month)
        .order_by(year.desc(), month.desc())
    )


def month_counts(now: datetime) -> list[tuple[int, int, int]]:
    """(year, month, posts readers see) for every month that has any, newest first.

    It reads every visible post's index entry: the archive keeps the answer until
    what readers see changes (archive.services), rather than asking per view.
    """
    rows = connection().execute(once_per_app(_month_counts), {"now": now})
    return [(int(year), int(month), int(posts)) for year, month, posts in rows]


def _month_count() -> Prepared:
    return Prepared(
        sa.select(sa.func.count()).where(
            public_posts(post, _NOW), post.c.published_at >= _START, post.c.published_at < _END
        )
    )


def count_month(start: datetime, end: datetime, *, now: datetime) -> int:
    """How many posts readers see were published in [start, end) (an index range)."""
    return int(once_per_app(_month_count).scalar({"now": now, "start": start, "end": end}))


def _month_posts() -> Prepared:
    ids = (
        sa.select(post.c.id)
        .where(public_posts(post, _NOW), post.c.published_at >= _START, post.c.published_at < _END)
        .order_by(*NEWEST_FIRST)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )
    return Prepared(
        sa.select(*COLUMNS)
        .select_from(WITH_AUTHOR)
        .where(post.c.id.in_(ids.scalar_subquery()))
        .order_by(*NEWEST_FIRST),
        inline=("limit", "offset"),
    )


def month_posts(
    start: datetime, end: datetime, *, now: datetime, limit: int, offset: int
) -> list[Row]:
    """Posts readers see published in [start, end), newest first (an index range)."""
    params = {"now": now, "start": start, "end": end, "limit": limit, "offset": offset}
    return once_per_app(_month_posts).rows(params)
