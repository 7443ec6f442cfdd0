"""Comments in the site search: a full-text index of the comments readers see.

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Only published comments are indexed: a held, hidden or spam comment is found by
# nobody, and leaves the index the moment it stops being published. Triggers keep
# it so, whoever writes (the app, a moderator, plain SQL). Whether a comment's
# thread and post are seen is checked when searching (search.queries), as pages do.
SQLITE = [
    "CREATE VIRTUAL TABLE comment_fts USING fts5(body, tokenize='porter unicode61')",
    """CREATE TRIGGER comment_fts_insert AFTER INSERT ON comment
        WHEN NEW.status = 'published' BEGIN
        INSERT INTO comment_fts (rowid, body) VALUES (NEW.id, NEW.body); END""",
    """CREATE TRIGGER comment_fts_update AFTER UPDATE OF status, body ON comment BEGIN
        DELETE FROM comment_fts WHERE rowid = OLD.id;
        INSERT INTO comment_fts (rowid, body) SELECT NEW.id, NEW.body
            WHERE NEW.status = 'published'; END""",
    """CREATE TRIGGER comment_fts_delete AFTER DELETE ON comment BEGIN
        DELETE FROM comment_fts WHERE rowid = OLD.id; END""",
    "INSERT INTO comment_fts (rowid, body) SELECT id, body FROM comment WHERE status = 'published'",
]
POSTGRESQL = [
    """CREATE TABLE comment_search (
        comment_id INTEGER PRIMARY KEY REFERENCES comment (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL)""",
    "CREATE INDEX ix_comment_search_document ON comment_search USING GIN (document)",
    # '<' and '>' become spaces, as for posts: the parser would take <b> for a tag.
    """CREATE FUNCTION flaskr_comment_search_refresh() RETURNS trigger AS $$
    BEGIN
        DELETE FROM comment_search WHERE comment_id = NEW.id;
        IF NEW.status = 'published' THEN
            INSERT INTO comment_search (comment_id, document)
            VALUES (NEW.id, to_tsvector('english', translate(NEW.body, '<>', '  ')));
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER comment_search_refresh AFTER INSERT OR UPDATE OF status, body ON comment "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_comment_search_refresh()",
    """INSERT INTO comment_search (comment_id, document)
        SELECT id, to_tsvector('english', translate(body, '<>', '  '))
        FROM comment WHERE status = 'published'""",
]


def upgrade() -> None:
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("comment_fts_insert", "comment_fts_update", "comment_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS comment_fts")
    else:
        op.execute("DROP TABLE IF EXISTS comment_search")
        op.execute("DROP FUNCTION IF EXISTS flaskr_comment_search_refresh() CASCADE")
