"""Revisions, tags, time zones, summaries and full-text search.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The search document of a post: title, body, tags and author, kept in sync by
# triggers so rows written by plain SQL are searchable too.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE post_fts USING fts5(title, body, tags, author, tokenize='porter unicode61')",
    """CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN
        INSERT INTO post_fts (rowid, title, body, tags, author) VALUES (
            NEW.id, NEW.title, NEW.body,
            COALESCE((SELECT group_concat(t.name, ' ') FROM post_tag pt JOIN tag t ON t.id = pt.tag_id
                      WHERE pt.post_id = NEW.id), ''),
            COALESCE((SELECT username FROM user WHERE id = NEW.author_id), ''));
    END""",
    """CREATE TRIGGER post_fts_update AFTER UPDATE OF title, body, author_id ON post BEGIN
        DELETE FROM post_fts WHERE rowid = OLD.id;
        INSERT INTO post_fts (rowid, title, body, tags, author) VALUES (
            NEW.id, NEW.title, NEW.body,
            COALESCE((SELECT group_concat(t.name, ' ') FROM post_tag pt JOIN tag t ON t.id = pt.tag_id
                      WHERE pt.post_id = NEW.id), ''),
            COALESCE((SELECT username FROM user WHERE id = NEW.author_id), ''));
    END""",
    "CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN "
    "DELETE FROM post_fts WHERE rowid = OLD.id; END",
    """CREATE TRIGGER post_tag_fts_insert AFTER INSERT ON post_tag BEGIN
        UPDATE post_fts SET tags = COALESCE((SELECT group_concat(t.name, ' ') FROM post_tag pt
            JOIN tag t ON t.id = pt.tag_id WHERE pt.post_id = NEW.post_id), '')
        WHERE rowid = NEW.post_id;
    END""",
    """CREATE TRIGGER post_tag_fts_delete AFTER DELETE ON post_tag BEGIN
        UPDATE post_fts SET tags = COALESCE((SELECT group_concat(t.name, ' ') FROM post_tag pt
            JOIN tag t ON t.id = pt.tag_id WHERE pt.post_id = OLD.post_id), '')
        WHERE rowid = OLD.post_id;
    END""",
    """INSERT INTO post_fts (rowid, title, body, tags, author)
        SELECT p.id, p.title, p.body, '', u.username FROM post p JOIN user u ON u.id = p.author_id""",
    """CREATE TRIGGER post_tag_copy_visibility AFTER INSERT ON post_tag
    WHEN EXISTS (SELECT 1 FROM post WHERE id = NEW.post_id) BEGIN
        UPDATE post_tag SET (status, published_at) =
            (SELECT status, published_at FROM post WHERE id = NEW.post_id)
        WHERE post_id = NEW.post_id AND tag_id = NEW.tag_id;
    END""",
    """CREATE TRIGGER post_visibility_to_tags AFTER UPDATE OF status, published_at ON post BEGIN
        UPDATE post_tag SET status = NEW.status, published_at = NEW.published_at
        WHERE post_id = NEW.id;
    END""",
]

POSTGRES_FTS = [
    """CREATE TABLE post_search (
        post_id INTEGER PRIMARY KEY REFERENCES post (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL)""",
    "CREATE INDEX ix_post_search_document ON post_search USING GIN (document)",
    """CREATE FUNCTION flaskr_post_document(pid INTEGER) RETURNS TSVECTOR AS $$
        -- '<' and '>' become spaces: the parser would take <canvas> for a tag and drop it.
        -- Every part uses 'english', the configuration queries are parsed with.
        SELECT setweight(to_tsvector('english', translate(p.title, '<>', '  ')), 'A')
            || setweight(to_tsvector('english', COALESCE((SELECT string_agg(t.name, ' ')
                 FROM post_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.post_id = p.id), '')), 'B')
            || setweight(to_tsvector('english', translate(u.username, '<>', '  ')), 'B')
            || setweight(to_tsvector('english', translate(p.body, '<>', '  ')), 'D')
        FROM post p JOIN "user" u ON u.id = p.author_id WHERE p.id = pid
    $$ LANGUAGE sql STABLE""",
    """CREATE FUNCTION flaskr_post_search_refresh() RETURNS trigger AS $$
    DECLARE pid INTEGER;
    BEGIN
        IF TG_TABLE_NAME = 'post' THEN pid := NEW.id; ELSIF TG_OP = 'DELETE' THEN pid := OLD.post_id;
        ELSE pid := NEW.post_id; END IF;
        INSERT INTO post_search (post_id, document) SELECT pid, flaskr_post_document(pid)
            WHERE EXISTS (SELECT 1 FROM post WHERE id = pid)
        ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_search_refresh AFTER INSERT OR UPDATE OF title, body, author_id ON post "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_search_refresh()",
    "CREATE TRIGGER post_tag_search_refresh AFTER INSERT OR DELETE ON post_tag "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_search_refresh()",
    "INSERT INTO post_search (post_id, document) SELECT id, flaskr_post_document(id) FROM post",
    """CREATE FUNCTION flaskr_post_tag_copy_visibility() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM post WHERE id = NEW.post_id) THEN
            SELECT status, published_at INTO NEW.status, NEW.published_at
            FROM post WHERE id = NEW.post_id;
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_tag_copy_visibility BEFORE INSERT ON post_tag "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_tag_copy_visibility()",
    """CREATE FUNCTION flaskr_post_visibility_to_tags() RETURNS trigger AS $$
    BEGIN
        UPDATE post_tag SET status = NEW.status, published_at = NEW.published_at
        WHERE post_id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_visibility_to_tags AFTER UPDATE OF status, published_at ON post "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_visibility_to_tags()",
]


# What readers can see changes only when these tables change (or a scheduled
# time passes): the page cache keys on this counter, bumped by triggers so even
# plain-SQL writes invalidate it.
WATCHED = {
    "post": "INSERT OR UPDATE OR DELETE",
    "post_tag": "INSERT OR UPDATE OR DELETE",
    "tag": "INSERT OR UPDATE OR DELETE",
    "user": "INSERT OR UPDATE OF username, bio, disabled OR DELETE",
}


def _content_version_triggers(dialect: str) -> list[str]:
    statements = []
    if dialect == "sqlite":
        for table, events in WATCHED.items():
            for event in events.split(" OR "):
                name = event.split()[0].lower()
                statements.append(
                    f'CREATE TRIGGER {table}_{name}_bumps_version AFTER {event} ON "{table}" '  # noqa: S608  # nosec B608 - names from WATCHED
                    "BEGIN UPDATE content_version SET version = version + 1 WHERE id = 1; END"
                )
        return statements
    statements.append(
        """CREATE FUNCTION flaskr_bump_content_version() RETURNS trigger AS $$
        BEGIN
            UPDATE content_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END $$ LANGUAGE plpgsql"""
    )
    for table, events in WATCHED.items():
        statements.append(
            f'CREATE TRIGGER {table}_bumps_version AFTER {events} ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION flaskr_bump_content_version()"
        )
    return statements


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
    with op.batch_alter_table("post") as batch:
        batch.add_column(sa.Column("summary", sa.Text))
    op.create_index("ix_post_status_author", "post", ["author_id", "status", "id"])
    op.create_table(
        "post_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False, server_default=""),
        sa.Column("saved_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_post_revision"),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name="fk_post_revision_post_id_post", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("post_id", "version", name="uq_post_revision_post_id_version"),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tag"),
        sa.UniqueConstraint("name", name="uq_tag_name"),
    )
    op.create_table(
        "post_tag",
        sa.Column("post_id", sa.Integer, nullable=False),
        sa.Column("tag_id", sa.Integer, nullable=False),
        # Copies of the post's visibility columns, so a tag's page and count are
        # one index range scan (kept in step by triggers).
        sa.Column("status", sa.String(10), nullable=False, server_default="published"),
        sa.Column("published_at", sa.DateTime),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name="pk_post_tag"),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name="fk_post_tag_post_id_post", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name="fk_post_tag_tag_id_tag", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_post_tag_visible", "post_tag", ["tag_id", "status", "published_at", "post_id"]
    )
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_content_version"),
    )
    op.execute("INSERT INTO content_version (id, version) VALUES (1, 1)")
    dialect = op.get_bind().dialect.name
    statements = SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS
    for statement in statements + _content_version_triggers(dialect):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, events in WATCHED.items():
            for event in events.split(" OR "):
                op.execute(
                    f"DROP TRIGGER IF EXISTS {table}_{event.split()[0].lower()}_bumps_version"
                )
        for trigger in (
            "post_tag_copy_visibility",
            "post_visibility_to_tags",
            "post_fts_insert",
            "post_fts_update",
            "post_fts_delete",
            "post_tag_fts_insert",
            "post_tag_fts_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS post_fts")
    else:
        op.execute("DROP TABLE IF EXISTS post_search")
        for table in WATCHED:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_bumps_version ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS flaskr_bump_content_version() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_search_refresh() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_document(INTEGER)")
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_tag_copy_visibility() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS flaskr_post_visibility_to_tags() CASCADE")
    op.drop_table("content_version")
    op.drop_table("post_tag")
    op.drop_table("tag")
    op.drop_table("post_revision")
    op.drop_index("ix_post_status_author", "post")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("summary")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("timezone")
