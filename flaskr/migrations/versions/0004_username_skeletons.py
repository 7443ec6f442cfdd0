"""Look-alike usernames: each account's TR39 skeleton key, unique.

Revision ID: 0004
Revises: 0003
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no table rebuild, which on SQLite would
    # cascade-delete every post of the rebuilt user table.
    op.add_column("user", sa.Column("username_skeleton", sa.String(64), nullable=True))
    from flaskr.auth.usernames import skeleton_key

    conn = op.get_bind()
    accounts = sa.table(
        "user", sa.column("id", sa.Integer), sa.column("username"), sa.column("username_skeleton")
    )
    owner: dict[str, tuple[int, str]] = {}
    for user_id, username in conn.execute(
        sa.select(accounts.c.id, accounts.c.username).order_by(accounts.c.id)
    ):
        key = skeleton_key(username)
        if key in owner:
            # Accounts that already look alike all keep working; the oldest holds
            # the key, so no new look-alike of either can register.
            log.warning(
                "username %r (id %d) looks like %r (id %d): both kept; consider renaming one",
                username,
                user_id,
                owner[key][1],
                owner[key][0],
            )
            continue
        owner[key] = (user_id, username)
        conn.execute(
            sa.update(accounts).where(accounts.c.id == user_id).values(username_skeleton=key)
        )
    op.create_index("ix_user_username_skeleton", "user", ["username_skeleton"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_user_username_skeleton", table_name="user")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a column in place; a batch rebuild of the user
        # table would trip over the triggers that name it.
        op.execute('ALTER TABLE "user" DROP COLUMN username_skeleton')
    else:
        op.drop_column("user", "username_skeleton")
