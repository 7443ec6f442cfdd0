"""Accounts and their server-side login sessions."""

import sqlalchemy as sa

from flaskr.db import metadata

USERNAME_MAX = 150

user = sa.Table(
    "user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(USERNAME_MAX), nullable=False, unique=True),
    # usernames.skeleton_key(): look-alike names share it, so the index refuses them.
    # NULL only for accounts that already looked alike when migration 0004 ran.
    sa.Column("username_skeleton", sa.String(64), nullable=True, unique=True, index=True),
    sa.Column("password", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("bio", sa.Text, nullable=False, server_default=""),
    # policy.ROLES: reader, author, editor or admin (what may be done is policy.can()'s).
    sa.Column("role", sa.String(16), nullable=False, server_default="author"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # Stopped from commenting by an editor or admin (comments.bans); audited.
    sa.Column("comments_banned", sa.Boolean, nullable=False, server_default=sa.false()),
    # IANA name; the editor shows and reads scheduled times in it (stored in UTC).
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    # The interface language the user chose ('' : as their browser asks).
    sa.Column("language", sa.String(16), nullable=False, server_default=""),
    # The confirmed address (recovery/: set only by following the link sent to it),
    # and its lower-case form, which no two accounts share.
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("email_key", sa.String(254), nullable=True, unique=True, index=True),
    # Ids are never reused: the audit log names accounts by id.
    sqlite_autoincrement=True,
)

#: One row per signed-in browser; deleting it signs that browser out.
user_session = sa.Table(
    "user_session",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created", sa.DateTime, nullable=False),
)
