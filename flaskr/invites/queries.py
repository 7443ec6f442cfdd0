"""Reads and writes of invitations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.db import connection
from flaskr.invites.tables import invite


def insert_invite(**values: object) -> int:
    """Store an invitation; return its id."""
    query = sa.insert(invite).values(**values).returning(invite.c.id)
    return connection().execute(query).scalar_one()


def _usable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        invite.c.used_at.is_(None), invite.c.revoked_at.is_(None), invite.c.expires_at > now
    )


def find_usable(token_hash: str, now: datetime) -> RowMapping | None:
    """The invitation with this token, if it is neither used, withdrawn nor expired."""
    query = sa.select(invite.c.id, invite.c.role).where(
        invite.c.token_hash == token_hash, _usable(now)
    )
    return connection().execute(query).mappings().first()


def use(invite_id: int, user_id: int, now: datetime) -> bool:
    """Mark the invitation used by this account; False if it was not usable any more
    (one statement: of two registrations at once, one wins)."""
    query = (
        sa.update(invite)
        .where(invite.c.id == invite_id, _usable(now))
        .values(used_at=now, used_by=user_id)
    )
    return connection().execute(query).rowcount == 1


def revoke(invite_id: int, now: datetime) -> bool:
    """Withdraw an unused invitation; False if there was none to withdraw."""
    query = (
        sa.update(invite)
        .where(invite.c.id == invite_id, invite.c.used_at.is_(None), invite.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return connection().execute(query).rowcount == 1


def list_invites(*, page: int, per_page: int) -> list[RowMapping]:
    """A page of invitations, newest first, with who made and who used each;
    per_page + 1 rows."""
    maker = user.alias("maker")
    taker = user.alias("taker")
    query = (
        sa.select(
            invite.c.id,
            invite.c.role,
            invite.c.created_at,
            invite.c.expires_at,
            invite.c.used_at,
            invite.c.revoked_at,
            maker.c.username.label("created_by_name"),
            taker.c.username.label("used_by_name"),
        )
        .select_from(
            invite.outerjoin(maker, maker.c.id == invite.c.created_by).outerjoin(
                taker, taker.c.id == invite.c.used_by
            )
        )
        .order_by(invite.c.created_at.desc(), invite.c.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())
