"""Guest comments: the name and address a visitor comments under (when the site allows).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: comment keeps its triggers.
    op.add_column("comment", sa.Column("guest_name", sa.String(60), nullable=True))
    op.add_column("comment", sa.Column("guest_email", sa.String(254), nullable=True))
    op.create_index("ix_comment_guest_email", "comment", ["guest_email", "status"])


def downgrade() -> None:
    op.drop_index("ix_comment_guest_email", "comment")
    op.drop_column("comment", "guest_email")
    op.drop_column("comment", "guest_name")
