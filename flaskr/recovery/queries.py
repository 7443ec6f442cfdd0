"""Reads and writes of addresses and the links sent to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.db import connection
from flaskr.recovery.tables import account_token


def find_address(user_id: int) -> str | None:
    """An account's confirmed address."""
    return connection().execute(sa.select(user.c.email).where(user.c.id == user_id)).scalar()


def find_pending(user_id: int, now: datetime) -> RowMapping | None:
    """The newest address waiting for its confirmation link to be followed."""
    query = (
        sa.select(account_token.c.email, account_token.c.expires_at)
        .where(
            account_token.c.user_id == user_id,
            account_token.c.purpose == "verify-email",
            account_token.c.used_at.is_(None),
            account_token.c.expires_at > now,
        )
        .order_by(account_token.c.id.desc())
        .limit(1)
    )
    return connection().execute(query).mappings().first()


def find_user_by_address(key: str) -> RowMapping | None:
    """The enabled account whose confirmed address this is, with its language."""
    query = sa.select(user.c.id, user.c.username, user.c.email, user.c.language).where(
        user.c.email_key == key, user.c.disabled == sa.false()
    )
    return connection().execute(query).mappings().first()


def insert_token(**values: object) -> None:
    """Record a link just sent."""
    connection().execute(sa.insert(account_token).values(**values))


def find_token(token_hash: str, purpose: str, now: datetime) -> RowMapping | None:
    """A link's row with its account, if it is unused, unexpired and its account enabled."""
    query = (
        sa.select(
            account_token.c.id,
            account_token.c.user_id,
            account_token.c.email,
            user.c.username,
        )
        .select_from(account_token.join(user, user.c.id == account_token.c.user_id))
        .where(
            account_token.c.token_hash == token_hash,
            account_token.c.purpose == purpose,
            account_token.c.used_at.is_(None),
            account_token.c.expires_at > now,
            user.c.disabled == sa.false(),
        )
    )
    return connection().execute(query).mappings().first()


def use_tokens(user_id: int, purpose: str, now: datetime) -> None:
    """Spend every unused link of this kind an account has (the one followed and any
    older ones: a link never works twice, nor after a newer one was used)."""
    connection().execute(
        sa.update(account_token)
        .where(
            account_token.c.user_id == user_id,
            account_token.c.purpose == purpose,
            account_token.c.used_at.is_(None),
        )
        .values(used_at=now)
    )


def use_token(token_id: int, now: datetime) -> bool:
    """Spend one link; False when it was spent already (by a request at the same time)."""
    query = (
        sa.update(account_token)
        .where(account_token.c.id == token_id, account_token.c.used_at.is_(None))
        .values(used_at=now)
    )
    return connection().execute(query).rowcount == 1


def update_address(user_id: int, email: str | None, key: str | None) -> None:
    """Set (or, with None, remove) an account's confirmed address."""
    connection().execute(
        sa.update(user).where(user.c.id == user_id).values(email=email, email_key=key)
    )
