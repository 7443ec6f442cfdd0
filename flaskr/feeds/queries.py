"""Reads for feeds."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.db import connection

# The page cache's counter, and when a trigger last bumped it (any write to
# posts, tags or users, plain SQL included).
_LAST_CHANGE = sa.text("SELECT version, changed_at FROM content_version WHERE id = 1").columns(
    sa.column("version", sa.BigInteger), sa.column("changed_at", sa.DateTime)
)


def find_last_change() -> RowMapping | None:
    """The content version and the time of the last write readers could see (None if unknown)."""
    return connection().execute(_LAST_CHANGE).mappings().first()
