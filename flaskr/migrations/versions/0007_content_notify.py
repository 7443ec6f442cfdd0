"""PostgreSQL: the content-version bump also NOTIFYs flaskr_content.

Each server process LISTENs on the channel (flaskr.db.notified), so a page
cache hit learns that readers' content changed without asking the database.
The notification is sent when the writing transaction commits, once per
transaction however many statements bumped. SQLite is untouched.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# 0005's bump: the version, and when (the statement's time, in UTC).
BUMP = "version = version + 1, changed_at = (clock_timestamp() AT TIME ZONE 'UTC')"


def _bump_function(notify: str) -> None:
    op.execute(
        f"""CREATE OR REPLACE FUNCTION flaskr_bump_content_version() RETURNS trigger AS $$
        BEGIN
            UPDATE content_version SET {BUMP} WHERE id = 1;{notify}
            RETURN NULL;
        END $$ LANGUAGE plpgsql"""  # noqa: S608  # nosec B608 - this module's constants
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _bump_function("\n            PERFORM pg_notify('flaskr_content', '');")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _bump_function("")
