"""When the editor last saved a draft by itself: a run of autosaves keeps one version.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("post", sa.Column("autosaved_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of post would trip over its triggers.
    op.execute("ALTER TABLE post DROP COLUMN autosaved_at")
