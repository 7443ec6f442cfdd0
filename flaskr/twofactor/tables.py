"""An account's authenticator secret and its recovery codes."""

import sqlalchemy as sa

from flaskr.db import metadata

#: One row per account that turned two-factor login on (a row of its own, so that a
#: login never writes to the user table, whose changes mark readers' pages changed).
user_totp = sa.Table(
    "user_totp",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
    # Base32, as the authenticator app was given it.
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("enabled_at", sa.DateTime, nullable=False),
    # The newest 30-second step a code was accepted for: no code works twice.
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
)

#: Ten per account, shown once; each stored as its sha256 and usable once.
recovery_code = sa.Table(
    "recovery_code",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("used_at", sa.DateTime, nullable=True),
)
