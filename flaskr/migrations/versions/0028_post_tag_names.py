"""Each post carries its tag names (post.tag_names), kept by triggers.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# Every list row showed its tags through a correlated subquery (post_tag joined
# to tag, aggregated): a quarter of a list page's SQL on SQLite and 45 us of
# 240 on PostgreSQL (bench/RESULTS.md). The names now sit on the post row,
# written by the database itself whichever way tags come and go - the editor,
# a cascade when a post or tag is deleted, a rename by hand in SQL - so no
# writer can forget them. Separated by char(31), as tags.queries reads them.
AGGREGATE = {
    "sqlite": "group_concat(t.name, char(31))",
    "postgresql": "string_agg(t.name, chr(31))",
}


def _names_of(dialect: str, post: str) -> str:
    """The tag names of the post `post` (an SQL expression). Only this module's
    constant text goes in."""
    aggregate = AGGREGATE[dialect]
    return f"(SELECT {aggregate} FROM post_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.post_id = {post})"  # noqa: S608, E501  # nosec B608


def _set_names(dialect: str, post: str, where: str) -> str:
    """UPDATE post's tag_names to the names of the post `post` for the rows `where` selects."""
    return f"UPDATE post SET tag_names = {_names_of(dialect, post)} WHERE {where};"  # noqa: S608  # nosec B608 - constants


def _one(dialect: str, post: str) -> str:
    return _set_names(dialect, post, f"id = {post}")


#: The posts carrying the renamed tag.
_RENAMED = "id IN (SELECT post_id FROM post_tag WHERE tag_id = NEW.id)"

_FIRST = _one("sqlite", "NEW.id")
#: The new post has tags already.
_HAS_TAGS = "EXISTS (SELECT 1 FROM post_tag WHERE post_id = NEW.id)"

SQLITE = [
    # With deferred foreign keys (demo-data's bulk load) a post's tags may come
    # before the post: the post picks them up (unless it brings its names along).
    "CREATE TRIGGER post_tag_names_first AFTER INSERT ON post "
    f"WHEN NEW.tag_names IS NULL AND {_HAS_TAGS} BEGIN {_FIRST} END",
    "CREATE TRIGGER post_tag_names_insert AFTER INSERT ON post_tag BEGIN "
    f"{_one('sqlite', 'NEW.post_id')} END",
    "CREATE TRIGGER post_tag_names_delete AFTER DELETE ON post_tag BEGIN "
    f"{_one('sqlite', 'OLD.post_id')} END",
    "CREATE TRIGGER post_tag_names_update AFTER UPDATE OF post_id, tag_id ON post_tag BEGIN "
    f"{_one('sqlite', 'OLD.post_id')} {_one('sqlite', 'NEW.post_id')} END",
    "CREATE TRIGGER tag_names_renamed AFTER UPDATE OF name ON tag BEGIN "
    f"{_set_names('sqlite', 'post.id', _RENAMED)} END",
]
#: The posts of the links a statement added or removed (its transition table
#: `changed`), their names written where they differ: one UPDATE per statement,
#: so a bulk load of 5,000 posts' tags is one statement, not 7,500 (a trigger
#: per row made demo-data's PostgreSQL load 75% slower).
_CHANGED = f"SELECT c.post_id, {_names_of('postgresql', 'c.post_id')} AS names FROM (SELECT DISTINCT post_id FROM changed) c"  # noqa: S608, E501  # nosec B608
_DIFFERENT = (
    "post.id = changed_posts.post_id AND post.tag_names IS DISTINCT FROM changed_posts.names"
)
_CHANGED_POSTS = f"UPDATE post SET tag_names = changed_posts.names FROM ({_CHANGED}) AS changed_posts WHERE {_DIFFERENT};"  # noqa: S608, E501  # nosec B608

POSTGRESQL = [
    f"""CREATE FUNCTION flaskr_post_tag_names_changed() RETURNS trigger AS $$
    BEGIN
        {_CHANGED_POSTS}
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    # A trigger with a transition table has one event: one for each.
    "CREATE TRIGGER post_tag_names_added AFTER INSERT ON post_tag REFERENCING NEW TABLE AS "
    "changed FOR EACH STATEMENT EXECUTE FUNCTION flaskr_post_tag_names_changed()",
    "CREATE TRIGGER post_tag_names_removed AFTER DELETE ON post_tag REFERENCING OLD TABLE AS "
    "changed FOR EACH STATEMENT EXECUTE FUNCTION flaskr_post_tag_names_changed()",
    # A link moved by hand (rare): per row, from the post it left and to the one it joined.
    f"""CREATE FUNCTION flaskr_post_tag_names_moved() RETURNS trigger AS $$
    BEGIN
        {_one("postgresql", "OLD.post_id")}
        {_one("postgresql", "NEW.post_id")}
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER post_tag_names_moved AFTER UPDATE OF post_id, tag_id ON post_tag "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_post_tag_names_moved()",
    f"""CREATE FUNCTION flaskr_tag_names_renamed() RETURNS trigger AS $$
    BEGIN
        {_set_names("postgresql", "post.id", _RENAMED)}
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER tag_names_renamed AFTER UPDATE OF name ON tag "
    "FOR EACH ROW EXECUTE FUNCTION flaskr_tag_names_renamed()",
]


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: post keeps its triggers.
    op.add_column("post", sa.Column("tag_names", sa.Text, nullable=True))
    dialect = op.get_bind().dialect.name
    if op.get_bind().execute(sa.text("SELECT 1 FROM post_tag LIMIT 1")).first() is not None:
        # Only with tags to copy: on PostgreSQL even an UPDATE of no row moves the
        # content version (a statement trigger), and an upgrade alone must not.
        op.execute(_set_names(dialect, "post.id", "id IN (SELECT post_id FROM post_tag)"))
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("post_tag_names_added", "post_tag_names_removed", "post_tag_names_moved"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON post_tag")
        op.execute("DROP TRIGGER IF EXISTS tag_names_renamed ON tag")
        for function in ("changed", "moved"):
            op.execute(f"DROP FUNCTION IF EXISTS flaskr_post_tag_names_{function}()")
        op.execute("DROP FUNCTION IF EXISTS flaskr_tag_names_renamed()")
    else:
        for trigger in (
            "post_tag_names_first",
            "post_tag_names_insert",
            "post_tag_names_delete",
            "post_tag_names_update",
            "tag_names_renamed",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_column("post", "tag_names")
