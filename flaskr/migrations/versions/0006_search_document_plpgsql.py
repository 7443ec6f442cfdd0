"""PostgreSQL: a post's search document built by PL/pgSQL, which keeps its plan.

flaskr_post_document() was a SQL-language function that PostgreSQL does not
inline into the trigger's statement, so it was planned again on every call:
0.68 ms per post saved (or tag link), against 0.21-0.24 ms for the same query
in PL/pgSQL, which caches its plan per session. Bulk loads (demo-data, imports)
write three times faster. The document is the same; SQLite is untouched.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# '<' and '>' become spaces: the parser would take <canvas> for a tag and drop it.
# Every part uses 'english', the configuration queries are parsed with.
DOCUMENT = """
        SELECT setweight(to_tsvector('english', translate(p.title, '<>', '  ')), 'A')
            || setweight(to_tsvector('english', COALESCE((SELECT string_agg(t.name, ' ')
                 FROM post_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.post_id = p.id), '')), 'B')
            || setweight(to_tsvector('english', translate(u.username, '<>', '  ')), 'B')
            || setweight(to_tsvector('english', translate(p.body, '<>', '  ')), 'D')
        FROM post p JOIN "user" u ON u.id = p.author_id WHERE p.id = pid"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION flaskr_post_document(pid INTEGER) RETURNS TSVECTOR AS $$\n"
        f"    BEGIN RETURN ({DOCUMENT}); END $$ LANGUAGE plpgsql STABLE"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION flaskr_post_document(pid INTEGER) RETURNS TSVECTOR AS $$"
        f"{DOCUMENT}\n    $$ LANGUAGE sql STABLE"
    )
