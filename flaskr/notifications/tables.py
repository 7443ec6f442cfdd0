"""Which emails each account turned off (migration 0025). No row: the email is on."""

import sqlalchemy as sa

from flaskr.db import metadata

notification_optout = sa.Table(
    "notification_optout",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
    # notifications.services.KINDS
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
