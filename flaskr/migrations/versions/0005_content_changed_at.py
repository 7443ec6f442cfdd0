"""When readers' content last changed: content_version.changed_at, set by the bump triggers.

Feeds answer If-Modified-Since from it: a deletion or a backdated post moves no
entry date, but it does move this.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Milliseconds: SQLite's CURRENT_TIMESTAMP has whole seconds only.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
# When the statement ran (not when its transaction began), in UTC whatever the
# session's time zone: plain-SQL sessions may have another one.
POSTGRES_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"

# The tables and events 0002 watches (its WATCHED), one trigger each on SQLite.
WATCHED = {
    "post": "INSERT OR UPDATE OR DELETE",
    "post_tag": "INSERT OR UPDATE OR DELETE",
    "tag": "INSERT OR UPDATE OR DELETE",
    "user": "INSERT OR UPDATE OF username, bio, disabled OR DELETE",
}


def _sqlite_trigger_names() -> list[tuple[str, str, str]]:
    return [
        (f"{table}_{event.split()[0].lower()}_bumps_version", table, event)
        for table, events in WATCHED.items()
        for event in events.split(" OR ")
    ]


def _sqlite_rebuild(bump: str, change_column) -> None:
    """Rebuild content_version with change_column applied, and its triggers with this bump."""
    # The triggers go first: SQLite refuses to rename a table into place while
    # triggers name it.
    for name, _table, _event in _sqlite_trigger_names():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("content_version", recreate="always") as batch:
        change_column(batch)
    for name, table, event in _sqlite_trigger_names():
        op.execute(
            f'CREATE TRIGGER {name} AFTER {event} ON "{table}" '  # noqa: S608  # nosec B608 - names from WATCHED
            f"BEGIN UPDATE content_version SET {bump} WHERE id = 1; END"
        )


def _postgres_function(bump: str) -> None:
    op.execute(
        f"""CREATE OR REPLACE FUNCTION flaskr_bump_content_version() RETURNS trigger AS $$
        BEGIN
            UPDATE content_version SET {bump} WHERE id = 1;
            RETURN NULL;
        END $$ LANGUAGE plpgsql"""  # noqa: S608  # nosec B608 - bump: this module's constants
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a non-constant default only by rebuilding the table.
        _sqlite_rebuild(
            f"version = version + 1, changed_at = {SQLITE_NOW}",
            lambda batch: batch.add_column(
                sa.Column(
                    "changed_at",
                    sa.DateTime,
                    nullable=False,
                    server_default=sa.text(f"({SQLITE_NOW})"),
                )
            ),
        )
    else:
        op.add_column(
            "content_version",
            sa.Column(
                "changed_at", sa.DateTime, nullable=False, server_default=sa.text(POSTGRES_NOW)
            ),
        )
        _postgres_function(f"version = version + 1, changed_at = {POSTGRES_NOW}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild("version = version + 1", lambda batch: batch.drop_column("changed_at"))
    else:
        _postgres_function("version = version + 1")
        op.drop_column("content_version", "changed_at")
