"""Reads and writes of authenticator secrets and recovery codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.db import connection
from flaskr.twofactor.tables import recovery_code, user_totp


def find_totp(user_id: int) -> RowMapping | None:
    """An account's secret and the last step accepted, if two-factor login is on."""
    query = sa.select(user_totp).where(user_totp.c.user_id == user_id)
    return connection().execute(query).mappings().first()


def insert_totp(user_id: int, secret: str, enabled_at: datetime, last_step: int) -> None:
    """Turn two-factor login on with this secret."""
    connection().execute(
        sa.insert(user_totp).values(
            user_id=user_id, secret=secret, enabled_at=enabled_at, last_step=last_step
        )
    )


def advance_step(user_id: int, step: int) -> bool:
    """Accept a code of this step: False when one of it (or a later one) was accepted
    already, by this request's twin too."""
    query = (
        sa.update(user_totp)
        .where(user_totp.c.user_id == user_id, user_totp.c.last_step < step)
        .values(last_step=step)
    )
    return connection().execute(query).rowcount == 1


def delete_totp(user_id: int) -> None:
    """Turn two-factor login off: the secret and every recovery code go."""
    conn = connection()
    conn.execute(sa.delete(recovery_code).where(recovery_code.c.user_id == user_id))
    conn.execute(sa.delete(user_totp).where(user_totp.c.user_id == user_id))


def replace_codes(user_id: int, hashes: list[str]) -> None:
    """Forget an account's recovery codes and store these."""
    conn = connection()
    conn.execute(sa.delete(recovery_code).where(recovery_code.c.user_id == user_id))
    conn.execute(sa.insert(recovery_code), [{"user_id": user_id, "code_hash": h} for h in hashes])


def use_code(user_id: int, code_hash: str, now: datetime) -> bool:
    """Spend one unused recovery code of the account; False if there is none such."""
    query = (
        sa.update(recovery_code)
        .where(
            recovery_code.c.user_id == user_id,
            recovery_code.c.code_hash == code_hash,
            recovery_code.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return connection().execute(query).rowcount == 1


def count_unused_codes(user_id: int) -> int:
    """How many recovery codes the account has left."""
    query = sa.select(sa.func.count()).where(
        recovery_code.c.user_id == user_id, recovery_code.c.used_at.is_(None)
    )
    return int(connection().execute(query).scalar_one())
