"""Notifications in SQL: who is mailed about a comment, and the emails accounts turned off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flaskr.auth.tables import user
from flaskr.db import connection
from flaskr.db.prepared import Row
from flaskr.notifications.tables import notification_optout

#: Most accounts one comment mails about waiting for approval (its post's author and staff).
MAX_RECIPIENTS = 50


def recipients(kind: str, *, ids: Iterable[int] = (), roles: Iterable[str] = ()) -> list[Row]:
    """The accounts with these ids or roles that get `kind` of email: enabled, with a
    confirmed address, and that did not turn it off."""
    ids, roles = list(ids), list(roles)
    if not ids and not roles:
        return []
    turned_off = sa.exists().where(
        notification_optout.c.user_id == user.c.id, notification_optout.c.kind == kind
    )
    query = (
        sa.select(user.c.id, user.c.username, user.c.email, user.c.language)
        .where(
            sa.or_(user.c.id.in_(ids), user.c.role.in_(roles)),
            # Only a confirmed address is ever stored in user.email (recovery/).
            user.c.email.is_not(None),
            user.c.disabled == sa.false(),
            ~turned_off,
        )
        .order_by(user.c.id)
        .limit(MAX_RECIPIENTS)
    )
    return list(connection().execute(query).mappings())


def turned_off(user_id: int) -> set[str]:
    """The kinds of email the account turned off."""
    query = sa.select(notification_optout.c.kind).where(notification_optout.c.user_id == user_id)
    return set(connection().execute(query).scalars())


def turn_off(user_id: int, kind: str, now: datetime) -> None:
    """Stop `kind` of email to the account (a second click changes nothing, even at once)."""
    conn = connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(notification_optout)
        .values(user_id=user_id, kind=kind, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "kind"])
    )


def turn_on(user_id: int, kind: str) -> None:
    """Send `kind` of email to the account again."""
    connection().execute(
        sa.delete(notification_optout).where(
            notification_optout.c.user_id == user_id, notification_optout.c.kind == kind
        )
    )


def find_recipient(user_id: int) -> Row | None:
    """An account as an unsubscribe link names it, if it still exists."""
    query = sa.select(user.c.id, user.c.username).where(user.c.id == user_id)
    return connection().execute(query).mappings().first()
