"""Invitations, each a hashed single-use token."""

import sqlalchemy as sa

from flaskr.db import metadata

invite = sa.Table(
    "invite",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # sha256 of the token in the link: a leaked table lets nobody in.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # The role the new account gets (NULL: the site's DEFAULT_ROLE).
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
    sa.Column("used_by", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL")),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Index("ix_invite_created", "created_at", "id"),
    sqlite_autoincrement=True,
)
