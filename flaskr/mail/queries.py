"""Reads and writes of the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.db import connection
from flaskr.mail.tables import outbox


def insert_message(**values: Any) -> int:
    """Queue one message; its id."""
    inserted = connection().execute(sa.insert(outbox).values(**values)).inserted_primary_key
    return int(inserted[0])  # type: ignore[index]


def claim_due(now: datetime, until: datetime, limit: int) -> list[RowMapping]:
    """Take up to `limit` queued messages that are due: each is this sender's until
    `until` (another sender skips it), and counts one more attempt. Run inside a write
    transaction: on PostgreSQL rows another sender is claiming are skipped (FOR UPDATE
    SKIP LOCKED); SQLite's write transaction (BEGIN IMMEDIATE) lets one sender in at a time."""
    conn = connection()
    due = (
        sa.select(outbox.c.id)
        .where(outbox.c.status == "queued", outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(next_attempt_at=until, attempts=outbox.c.attempts + 1)
    )
    return list(conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids))).mappings())


def update_outcome(message_id: int, attempts: int, **values: Any) -> bool:
    """Record what became of a claimed message; False when another sender claimed it
    since (its claim ran out), which then owns the outcome."""
    query = (
        sa.update(outbox)
        .where(outbox.c.id == message_id, outbox.c.attempts == attempts)
        .values(**values)
    )
    return connection().execute(query).rowcount == 1


def update_retry(message_id: int, now: datetime) -> bool:
    """Queue a failed message again, due now, with its attempts counted afresh."""
    query = (
        sa.update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=now, last_error=None)
    )
    return connection().execute(query).rowcount == 1


def find_message(message_id: int) -> RowMapping | None:
    """One message, every column."""
    return (
        connection().execute(sa.select(outbox).where(outbox.c.id == message_id)).mappings().first()
    )


def list_messages(status: str | None, *, page: int, per_page: int) -> list[RowMapping]:
    """Messages newest first (one more than a page: is there a next one?), of one status
    or all; without their bodies."""
    columns = [c for c in outbox.c if c.name not in ("body_text", "body_html")]
    query = sa.select(*columns).order_by(outbox.c.id.desc())
    if status is not None:
        query = query.where(outbox.c.status == status)
    query = query.limit(per_page + 1).offset((page - 1) * per_page)
    return list(connection().execute(query).mappings())


def count_by_status() -> dict[str, int]:
    """How many messages have each status."""
    query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    return {status: count for status, count in connection().execute(query)}
