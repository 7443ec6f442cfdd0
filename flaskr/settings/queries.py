"""Reads and writes of the stored site settings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from flaskr.db import connection
from flaskr.settings.tables import site_setting


def stored() -> dict[str, str]:
    """Every stored setting: {name: value}."""
    query = sa.select(site_setting.c.name, site_setting.c.value)
    return {name: value for name, value in connection().execute(query)}


def save(name: str, value: str, now: datetime, by: int | None) -> None:
    """Store one setting (a trigger marks the blog changed: every process reloads)."""
    conn = connection()
    changed = conn.execute(
        sa.update(site_setting)
        .where(site_setting.c.name == name)
        .values(value=value, updated_at=now, updated_by=by)
    ).rowcount
    if not changed:
        conn.execute(
            sa.insert(site_setting).values(name=name, value=value, updated_at=now, updated_by=by)
        )
