"""Likes: post_like (one per account and post) and post.like_count, kept by triggers.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# The count follows the rows whichever way they come and go: a like, an unlike,
# and the cascades when an account or a post is deleted. Each is one UPDATE of
# the post's row, which PostgreSQL locks and SQLite's writer holds: likes at the
# same moment add up. The UPDATE also moves the content version (post's own
# trigger), so kept pages show the new count.
SQLITE = [
    """CREATE TRIGGER post_like_count_up AFTER INSERT ON post_like BEGIN
        UPDATE post SET like_count = like_count + 1 WHERE id = NEW.post_id;
    END""",
    """CREATE TRIGGER post_like_count_down AFTER DELETE ON post_like BEGIN
        UPDATE post SET like_count = like_count - 1 WHERE id = OLD.post_id;
    END""",
]
POSTGRESQL = [
    """CREATE FUNCTION flaskr_post_like_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE post SET like_count = like_count + 1 WHERE id = NEW.post_id;
        ELSE
            UPDATE post SET like_count = like_count - 1 WHERE id = OLD.post_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_like_count AFTER INSERT OR DELETE ON post_like "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_like_count()",
]


def upgrade() -> None:
    op.add_column("post", sa.Column("like_count", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "post_like",
        sa.Column(
            "post_id",
            sa.Integer,
            sa.ForeignKey("post.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_post_like_user", "post_like", ["user_id"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("post_like")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_like_count()")
    # Plain ALTER TABLE (as 0021): a batch rebuild would drop post's triggers.
    op.drop_column("post", "like_count")
