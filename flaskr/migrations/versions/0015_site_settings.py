"""Site settings stored in the database; a change marks readers' pages changed.

The same bump as posts, tags and users (0005, 0007): every process's page
cache drops its pages, and each process reloads the settings when it sees
the new content version.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# 0005's bump on SQLite (PostgreSQL's is the function 0005 and 0007 made).
SQLITE_BUMP = "version = version + 1, changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now')"
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "site_setting",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, nullable=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER site_setting_{event.lower()}_bumps_version AFTER {event} "  # noqa: S608  # nosec B608 - this module's constants
                f"ON site_setting BEGIN UPDATE content_version SET {SQLITE_BUMP} WHERE id = 1; END"
            )
    else:
        op.execute(
            "CREATE TRIGGER site_setting_bumps_version AFTER INSERT OR UPDATE OR DELETE "
            "ON site_setting FOR EACH STATEMENT EXECUTE FUNCTION flaskr_bump_content_version()"
        )


def downgrade() -> None:
    op.drop_table("site_setting")  # its triggers go with it
