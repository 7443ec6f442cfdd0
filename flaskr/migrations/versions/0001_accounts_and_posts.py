"""Accounts, login sessions and posts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False, server_default=NOW),
        sa.Column("bio", sa.Text, nullable=False, server_default=""),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
        sa.UniqueConstraint("username", name="uq_user_username"),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
        sa.UniqueConstraint("token_hash", name="uq_user_session_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_user_session_user_id_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "post",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False, server_default=NOW),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="published"),
        sa.Column("published_at", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("body_html", sa.Text),
        sa.Column("render_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_post"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name="fk_post_author_id_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_post_published", "post", ["status", "published_at", "id"])
    op.create_index("ix_post_author", "post", ["author_id", "published_at", "id"])
    # Rows inserted by plain SQL (the tutorial's way) carry no published_at:
    # a published post without one counts as published when it was created.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            """
            CREATE TRIGGER post_default_published_at AFTER INSERT ON post
            WHEN NEW.published_at IS NULL AND NEW.status = 'published'
            BEGIN
                UPDATE post SET published_at = NEW.created WHERE id = NEW.id;
            END
            """
        )
    else:
        op.execute(
            """
            CREATE FUNCTION flaskr_post_default_published_at() RETURNS trigger AS $$
            BEGIN
                IF NEW.published_at IS NULL AND NEW.status = 'published' THEN
                    NEW.published_at := NEW.created;
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER post_default_published_at BEFORE INSERT ON post "
            "FOR EACH ROW EXECUTE FUNCTION flaskr_post_default_published_at()"
        )


def downgrade() -> None:
    op.drop_table("post")
    op.drop_table("user_session")
    op.drop_table("user")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_default_published_at()")
