"""Two-factor login: an account's authenticator secret and its recovery codes.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user.id", ondelete="CASCADE", name="fk_user_totp_user_id_user"),
            nullable=False,
        ),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("enabled_at", sa.DateTime, nullable=False),
        sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_totp"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user.id", ondelete="CASCADE", name="fk_recovery_code_user_id_user"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
        sa.UniqueConstraint("code_hash", name="uq_recovery_code_code_hash"),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])


def downgrade() -> None:
    op.drop_table("recovery_code")
    op.drop_table("user_totp")
