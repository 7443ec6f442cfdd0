"""Languages: the one each user reads the interface in, the one each post is written in.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user", sa.Column("language", sa.String(16), nullable=False, server_default=""))
    op.add_column("post", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would trip over the tables' triggers.
    op.execute("ALTER TABLE post DROP COLUMN language")
    op.execute('ALTER TABLE "user" DROP COLUMN language')
