"""The archive's months and their posts; counts kept until what readers see changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from flaskr.archive import queries
from flaskr.blog import queries as blog_queries
from flaskr.blog import services as blog_services
from flaskr.db import utcnow
from flaskr.paging import Page, make_page


@dataclass
class _Counts:
    version: int | None
    #: When the next scheduled post appears (it changes the counts with no write).
    until: datetime | None
    months: list[tuple[int, int, int]]


def months(now: datetime | None = None) -> list[tuple[int, int, int]]:
    """(year, month, posts) for every month with posts readers see, newest first.

    Counting reads every visible post, so the answer is kept per process until the
    content version moves or the next scheduled post comes out.
    """
    now = now or utcnow()
    version = blog_queries.content_version()
    kept: _Counts | None = current_app.extensions.get("flaskr.archive")
    if kept is None or kept.version != version or (kept.until is not None and now >= kept.until):
        kept = _Counts(version, blog_queries.next_publication(now), queries.month_counts(now))
        if version is not None:
            current_app.extensions["flaskr.archive"] = kept
    return kept.months


def month_page(year: int, month: int, number: int) -> Page:
    """Page `number` of the posts published in one month, newest first, ready to show."""
    start = datetime(year, month, 1)
    end = datetime(year + month // 12, month % 12 + 1, 1)
    per_page = current_app.config["POSTS_PER_PAGE"]
    now = utcnow()
    rows = queries.month_posts(
        start, end, now=now, limit=per_page + 1, offset=(number - 1) * per_page
    )
    # A month's posts are an index range: counting them for "Page N of M" is cheap.
    total = queries.count_month(start, end, now=now)
    page = make_page(rows, number, per_page, total=total)
    page.items = blog_services.with_html(page.items)
    return page
