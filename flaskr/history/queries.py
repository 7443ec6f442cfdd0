"""Reads of a post's earlier versions (the blog writes them on every save)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.blog.tables import post_revision
from flaskr.db import connection


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
