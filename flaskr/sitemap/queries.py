"""Reads for the sitemaps: what readers can see, in the shapes the sitemap protocol wants."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.policy import public_posts
from flaskr.tags.tables import post_tag, tag


def newest_public_post_id() -> int:
    """The highest id of a post readers see (0 when there is none)."""
    query = sa.select(sa.func.max(post.c.id)).where(public_posts(post))
    return connection().execute(query).scalar() or 0


def list_public_posts_between(first_id: int, stop_id: int) -> list[RowMapping]:
    """The posts readers see with first_id <= id < stop_id, by id, with their last change."""
    query = (
        sa.select(post.c.id, post.c.title, post.c.slug, post.c.published_at, post.c.updated)
        .where(public_posts(post), post.c.id >= first_id, post.c.id < stop_id)
        .order_by(post.c.id)
    )
    return list(connection().execute(query).mappings())


def list_tags_with_newest_post(limit: int) -> list[RowMapping]:
    """Tags of visible posts, by name, each with its newest visible post's time (lastmod)."""
    query = (
        sa.select(tag.c.name, sa.func.max(post_tag.c.published_at).label("lastmod"))
        .select_from(tag.join(post_tag, post_tag.c.tag_id == tag.c.id))
        .where(public_posts(post_tag))
        .group_by(tag.c.name)
        .order_by(tag.c.name)
        .limit(limit)
    )
    return list(connection().execute(query).mappings())


def list_authors_with_newest_post(limit: int) -> list[RowMapping]:
    """Authors of visible posts, by name, each with their newest visible post's time (lastmod)."""
    query = (
        sa.select(user.c.username, sa.func.max(post.c.published_at).label("lastmod"))
        .select_from(user.join(post, post.c.author_id == user.c.id))
        .where(public_posts(post))
        .group_by(user.c.username)
        .order_by(user.c.username)
        .limit(limit)
    )
    return list(connection().execute(query).mappings())
