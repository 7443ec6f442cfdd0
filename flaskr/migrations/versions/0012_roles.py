"""Roles: each account is a reader, author, editor or admin (replacing the unused is_admin).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user", sa.Column("role", sa.String(16), nullable=False, server_default="author"))
    # `create-user --admin` stored the wish before anything read it: honour it now.
    op.execute("UPDATE \"user\" SET role = 'admin' WHERE is_admin")
    # Plain DROP COLUMN (SQLite 3.35+), as 0011's downgrade does.
    op.execute('ALTER TABLE "user" DROP COLUMN is_admin')


def downgrade() -> None:
    op.add_column(
        "user", sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.execute("UPDATE \"user\" SET is_admin = (role = 'admin')")
    op.execute('ALTER TABLE "user" DROP COLUMN role')
