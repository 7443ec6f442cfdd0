"""Likes: post_like (one per account and post) and post_like_count, kept by triggers.

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
# and the cascades when an account or a post is deleted. Each is one statement
# on the post's count row, which PostgreSQL locks and SQLite's writer holds:
# likes at the same moment add up. The count is not in `post` on purpose: a
# change there moves the content version, and likes must not empty the page
# cache. A like going with its post finds no count row to change (it went too).
SQLITE = [
    """CREATE TRIGGER post_like_count_up AFTER INSERT ON post_like BEGIN
        INSERT INTO post_like_count (post_id, likes) VALUES (NEW.post_id, 1)
        ON CONFLICT (post_id) DO UPDATE SET likes = likes + 1;
    END""",
    """CREATE TRIGGER post_like_count_down AFTER DELETE ON post_like BEGIN
        UPDATE post_like_count SET likes = likes - 1 WHERE post_id = OLD.post_id;
    END""",
]
POSTGRESQL = [
    """CREATE FUNCTION flaskr_post_like_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO post_like_count (post_id, likes) VALUES (NEW.post_id, 1)
            ON CONFLICT (post_id) DO UPDATE SET likes = post_like_count.likes + 1;
        ELSE
            UPDATE post_like_count SET likes = likes - 1 WHERE post_id = OLD.post_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_like_count AFTER INSERT OR DELETE ON post_like "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_like_count()",
]


def _post_id() -> sa.Column:
    return sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )


def upgrade() -> None:
    op.create_table(
        "post_like",
        _post_id(),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_post_like_user", "post_like", ["user_id"])
    op.create_table("post_like_count", _post_id(), sa.Column("likes", sa.Integer, nullable=False))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("post_like")  # its triggers go with it
    op.drop_table("post_like_count")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_like_count()")
