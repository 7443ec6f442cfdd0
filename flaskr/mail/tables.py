"""The outbox: every message flaskr sends, written in the transaction of its cause."""

import sqlalchemy as sa

from flaskr.db import metadata

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # What caused it (services.KINDS): the admin page and the logs name it.
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    # Emptied once SMTP took the message: a link in it (a password reset) is not
    # kept in the database longer than needed.
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),
    # Made when queued, so a retried message keeps its Message-ID.
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # queued (waiting, or being sent until next_attempt_at), sent, logged (no SMTP
    # set: written to the log), failed (gave up after MAIL_MAX_ATTEMPTS).
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # The one-click unsubscribe address of a notification (List-Unsubscribe, RFC 8058).
    sa.Column("list_unsubscribe", sa.Text, nullable=True),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_outbox_status_id", "status", "id"),
    sqlite_autoincrement=True,
)
