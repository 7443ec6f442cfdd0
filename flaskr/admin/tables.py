"""The audit log: what was done to accounts and the site, by whom, from where."""

import sqlalchemy as sa

from flaskr.db import metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    # Who did it (NULL: nobody signed in, or the command line) and to whom. Plain
    # numbers, not foreign keys: the log outlives the accounts it names.
    sa.Column("actor_id", sa.Integer, nullable=True),
    sa.Column("target_id", sa.Integer, nullable=True),
    sa.Column("ip", sa.String(45), nullable=True),
    # The rest of the event's fields, as the log line writes them (key=value ...).
    sa.Column("details", sa.Text, nullable=False, server_default=""),
    # A burst of the same failure (security.BURST_EVENTS) is one entry: how many times it
    # happened, and when the last one was (NULL while it happened once).
    sa.Column("times", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_at", sa.DateTime, nullable=True),
    sa.Index("ix_audit_log_at", "at", "id"),
    sa.Index("ix_audit_log_event", "event", "at", "id"),
    sqlite_autoincrement=True,
)
