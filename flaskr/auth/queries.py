"""Reads and single statements on accounts and login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user, user_session
from flaskr.db import connection
from flaskr.db.prepared import Prepared, Row

#: What the rest of the app may know about a user: never the password hash.
PUBLIC_COLUMNS = (
    user.c.id,
    user.c.username,
    user.c.bio,
    user.c.role,
    user.c.created,
    user.c.timezone,
    user.c.language,
    user.c.comments_banned,
)

#: What a list of one author's posts carries of its author, on each row: their
#: public columns as profile_id, profile_bio...
PROFILE_PREFIX = "profile_"


def profile_columns() -> tuple[sa.Label[Any], ...]:
    """The author's public columns, labelled for a list of their posts (PROFILE_PREFIX)."""
    return tuple(column.label(PROFILE_PREFIX + column.key) for column in PUBLIC_COLUMNS)


def username_column(user_id: sa.ColumnElement[Any]) -> sa.Label[Any]:
    """The name of the user `user_id` (a column of the row it is read with), as `username`:
    looked up by id for each row read, where a join could cost more (see its callers)."""
    name = sa.select(user.c.username).where(user.c.id == user_id).scalar_subquery()
    return name.label("username")


def profile_in(row: Row) -> dict[str, Any]:
    """The author's public profile, as find_user_by_name() gives it, from a row of a
    list of their posts (profile_columns())."""
    return {column.key: row[PROFILE_PREFIX + column.key] for column in PUBLIC_COLUMNS}


def find_credentials(*usernames: str) -> RowMapping | None:
    """The account with the first of these usernames, with its password hash, for signing in."""
    first = usernames[0]
    query = (
        sa.select(user.c.id, user.c.password, user.c.disabled)
        .where(user.c.username.in_(usernames))
        .order_by(user.c.username != first)
    )
    return connection().execute(query).mappings().first()


def find_password_hash(user_id: int) -> str | None:
    """The stored password hash of a user."""
    query = sa.select(user.c.password).where(user.c.id == user_id)
    return connection().execute(query).scalar()


# Built once: profiles and every signed-in request run them (values bound per call).
_USER_BY_NAME = Prepared(
    sa.select(*PUBLIC_COLUMNS).where(user.c.username == sa.bindparam("username"))
)
_SESSION_USER = Prepared(
    sa.select(*PUBLIC_COLUMNS)
    .select_from(user_session.join(user, user.c.id == user_session.c.user_id))
    .where(
        user_session.c.token_hash == sa.bindparam("token_hash"),
        user_session.c.created >= sa.bindparam("not_before", type_=sa.DateTime()),
        user.c.disabled == sa.false(),
    )
)


def find_user_by_name(username: str) -> Row | None:
    """A user's public profile by username."""
    return _USER_BY_NAME.first({"username": username})


def find_username(user_id: int | None) -> str | None:
    """The name of an account by its id, if it (still) exists."""
    if user_id is None:
        return None
    query = sa.select(user.c.username).where(user.c.id == user_id)
    return connection().execute(query).scalar_one_or_none()


def find_taken_username(username: str, skeleton: str) -> str | None:
    """The existing username equal to this one, else one that looks like it, else None."""
    query = (
        sa.select(user.c.username)
        .where(sa.or_(user.c.username == username, user.c.username_skeleton == skeleton))
        .order_by(user.c.username != username)
    )
    return connection().execute(query).scalar()


def insert_user(username: str, skeleton: str, password_hash: str, *, role: str) -> int:
    """Add an account; return its id."""
    query = sa.insert(user).values(
        username=username, username_skeleton=skeleton, password=password_hash, role=role
    )
    return connection().execute(query.returning(user.c.id)).scalar_one()


def find_account(username: str) -> RowMapping | None:
    """An account's id, role and whether it is disabled, by its exact username."""
    query = sa.select(user.c.id, user.c.username, user.c.role, user.c.disabled).where(
        user.c.username == username
    )
    return connection().execute(query).mappings().first()


def update_role(user_id: int, role: str) -> None:
    """Give an account another role."""
    connection().execute(sa.update(user).where(user.c.id == user_id).values(role=role))


def update_password(user_id: int, password_hash: str) -> None:
    """Store a new password hash for a user."""
    connection().execute(sa.update(user).where(user.c.id == user_id).values(password=password_hash))


def update_profile(user_id: int, *, bio: str, timezone: str, language: str) -> None:
    """Store a user's bio and time zone."""
    connection().execute(
        sa.update(user)
        .where(user.c.id == user_id)
        .values(bio=bio, timezone=timezone, language=language)
    )


def update_disabled(user_id: int, disabled: bool) -> None:
    """Disable or re-enable an account."""
    connection().execute(sa.update(user).where(user.c.id == user_id).values(disabled=disabled))


def delete_user(user_id: int) -> None:
    """Remove an account (its posts and sessions go with it)."""
    connection().execute(sa.delete(user).where(user.c.id == user_id))


def insert_session(user_id: int, token_hash: str, created: datetime) -> None:
    """Record a signed-in browser."""
    connection().execute(
        sa.insert(user_session).values(user_id=user_id, token_hash=token_hash, created=created)
    )


def find_session_user(token_hash: str, not_before: datetime) -> Row | None:
    """The enabled user a live session belongs to, or None."""
    params = {"token_hash": token_hash, "not_before": not_before}
    return _SESSION_USER.first(params)


def delete_session(token_hash: str) -> None:
    """Sign one browser out."""
    connection().execute(sa.delete(user_session).where(user_session.c.token_hash == token_hash))


def delete_sessions(user_id: int, keep_hash: str | None = None) -> None:
    """Sign a user out everywhere, except (optionally) the current browser."""
    query = sa.delete(user_session).where(user_session.c.user_id == user_id)
    if keep_hash is not None:
        query = query.where(user_session.c.token_hash != keep_hash)
    connection().execute(query)


def count_users() -> int:
    """How many accounts exist."""
    return connection().execute(sa.select(sa.func.count()).select_from(user)).scalar_one()
