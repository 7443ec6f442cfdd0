"""Comments: the comment table, each post's count, and whether a post takes comments.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# What readers see of a thread: published comments, and "[deleted]" where
# replies hang. A change that touches one of those moves the content version
# (kept pages and feeds follow at once); a held, hidden or spam comment
# coming and going moves nothing, so a flood of held spam empties no cache.
SEEN = "('published', 'deleted')"
# The columns a page shows of a comment (thread_id, set once by the database
# itself, is not one of them).
SHOWN = "status, body_html, author_id, edited_at"
SQLITE_BUMP = (
    "UPDATE content_version SET version = version + 1, "
    "changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;"
)
# The count is of published comments; each trigger changes the post's one row.
SQLITE_COUNT_UP = (
    "INSERT INTO post_comment_count (post_id, comments) VALUES (NEW.post_id, 1) "
    "ON CONFLICT (post_id) DO UPDATE SET comments = comments + 1;"
)
SQLITE_COUNT_DOWN = (
    "UPDATE post_comment_count SET comments = comments - 1 WHERE post_id = OLD.post_id;"
)
# A comment's thread_id is filled in by the database, whoever inserts it: its
# parent's id for a reply, its own for a top-level comment (known only once
# the row has one: after the insert on SQLite, before it on PostgreSQL).
SQLITE = [
    """CREATE TRIGGER comment_thread AFTER INSERT ON comment WHEN NEW.thread_id IS NULL
        BEGIN UPDATE comment SET thread_id = coalesce(NEW.parent_id, NEW.id)
        WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER comment_insert_seen AFTER INSERT ON comment
        WHEN NEW.status IN {SEEN} BEGIN {SQLITE_BUMP} END""",
    f"""CREATE TRIGGER comment_delete_seen AFTER DELETE ON comment
        WHEN OLD.status IN {SEEN} BEGIN {SQLITE_BUMP} END""",
    f"""CREATE TRIGGER comment_update_seen AFTER UPDATE OF {SHOWN} ON comment
        WHEN OLD.status IN {SEEN} OR NEW.status IN {SEEN} BEGIN {SQLITE_BUMP} END""",
    f"""CREATE TRIGGER comment_count_insert AFTER INSERT ON comment
        WHEN NEW.status = 'published' BEGIN {SQLITE_COUNT_UP} END""",
    f"""CREATE TRIGGER comment_count_delete AFTER DELETE ON comment
        WHEN OLD.status = 'published' BEGIN {SQLITE_COUNT_DOWN} END""",
    f"""CREATE TRIGGER comment_count_published AFTER UPDATE OF status ON comment
        WHEN NEW.status = 'published' AND OLD.status <> 'published'
        BEGIN {SQLITE_COUNT_UP} END""",
    f"""CREATE TRIGGER comment_count_unpublished AFTER UPDATE OF status ON comment
        WHEN OLD.status = 'published' AND NEW.status <> 'published'
        BEGIN {SQLITE_COUNT_DOWN} END""",
]
POSTGRESQL = [
    """CREATE FUNCTION flaskr_comment_thread() RETURNS trigger AS $$
    BEGIN
        NEW.thread_id := coalesce(NEW.thread_id, NEW.parent_id, NEW.id);
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER comment_thread BEFORE INSERT ON comment "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_comment_thread()",
    """CREATE FUNCTION flaskr_post_comment_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published'
                AND (TG_OP = 'INSERT' OR OLD.status <> 'published') THEN
            INSERT INTO post_comment_count (post_id, comments) VALUES (NEW.post_id, 1)
            ON CONFLICT (post_id) DO UPDATE SET comments = post_comment_count.comments + 1;
        ELSIF TG_OP IN ('DELETE', 'UPDATE') AND OLD.status = 'published'
                AND (TG_OP = 'DELETE' OR NEW.status <> 'published') THEN
            UPDATE post_comment_count SET comments = comments - 1 WHERE post_id = OLD.post_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER comment_count AFTER INSERT OR DELETE OR UPDATE OF status ON comment "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_comment_count()",
    # Row triggers with a condition, calling the bump every watched table uses
    # (0005, 0007: it also NOTIFYs the other processes).
    f"CREATE TRIGGER comment_insert_seen AFTER INSERT ON comment FOR EACH ROW "
    f"WHEN (NEW.status IN {SEEN}) EXECUTE FUNCTION flaskr_bump_content_version()",
    f"CREATE TRIGGER comment_delete_seen AFTER DELETE ON comment FOR EACH ROW "
    f"WHEN (OLD.status IN {SEEN}) EXECUTE FUNCTION flaskr_bump_content_version()",
    f"CREATE TRIGGER comment_update_seen AFTER UPDATE OF {SHOWN} ON comment FOR EACH ROW "
    f"WHEN (OLD.status IN {SEEN} OR NEW.status IN {SEEN}) "
    "EXECUTE FUNCTION flaskr_bump_content_version()",
]


def _post_id(**options) -> sa.Column:
    return sa.Column("post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), **options)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: post keeps its triggers.
    op.add_column(
        "post",
        sa.Column("comments_closed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer, primary_key=True),
        _post_id(nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE")),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comment.id", ondelete="CASCADE")),
        sa.Column("thread_id", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("held_reason", sa.String(40)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("edited_at", sa.DateTime),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_comment_post", "comment", ["post_id", "thread_id", "id"])
    op.create_index("ix_comment_parent", "comment", ["parent_id", "id"])
    op.create_index("ix_comment_author", "comment", ["author_id", "status", "created_at"])
    op.create_index("ix_comment_status", "comment", ["status", "id"])
    op.create_table(
        "post_comment_count",
        _post_id(primary_key=True),
        sa.Column("comments", sa.Integer, nullable=False),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("comment")  # its triggers go with it
    op.drop_table("post_comment_count")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_comment_count()")
        op.execute("DROP FUNCTION IF EXISTS flaskr_comment_thread()")
    op.drop_column("post", "comments_closed")
