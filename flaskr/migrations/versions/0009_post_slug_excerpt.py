"""A post's own address words (slug) and list excerpt, both optional.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without defaults: SQLite adds them without rebuilding the table.
    op.add_column("post", sa.Column("slug", sa.String(80), nullable=True))
    op.add_column("post", sa.Column("excerpt", sa.Text, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of post would trip over the
    # triggers that name it.
    op.execute("ALTER TABLE post DROP COLUMN excerpt")
    op.execute("ALTER TABLE post DROP COLUMN slug")
