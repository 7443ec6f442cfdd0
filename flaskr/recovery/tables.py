"""Links sent by mail: each a hashed, single-use token with an expiry."""

import sqlalchemy as sa

from flaskr.db import metadata

account_token = sa.Table(
    "account_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # verify-email (the link confirms `email` as the account's address) or
    # reset-password (the link sets a new password; `email` is where it was sent).
    sa.Column("purpose", sa.String(16), nullable=False),
    # sha256 of the token in the link: the table lets nobody in.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
    sqlite_autoincrement=True,
)
