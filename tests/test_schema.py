"""The schema: tables.py and the migrations agree, and migration 0003 (ids never reused)."""

from __future__ import annotations

import io
from datetime import datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flaskr.blog import services
from flaskr.db import connection, engine, metadata, transaction
from flaskr.schema import (
    alembic_config,
    comparison_options,
    current_revision,
    head_revision,
    upgrade_db,
)
from flaskr.search.queries import search_posts
from flaskr.tags.queries import split_names

PW = "a long enough pw"


def _differences(app, target: sa.MetaData) -> list:
    with app.app_context(), engine().connect() as conn:
        options = comparison_options(target, conn.dialect.name)
        return compare_metadata(MigrationContext.configure(conn, opts=options), target)


def test_tables_and_migrations_agree(app):
    names = set(metadata.tables)
    assert {"content_version", "post_fts", "post_search"} <= names
    assert _differences(app, metadata) == []
    # The same comparison through env.py (`alembic check`): its target_metadata is set.
    with app.app_context(), engine().connect() as conn:
        config = alembic_config(conn)
        config.stdout = io.StringIO()  # its "no new operations" line, kept off the terminal
        command.check(config)


def test_schema_comparison_finds_a_column_that_no_migration_made(app, db_kind):
    changed = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["post"].append_column(sa.Column("subtitle", sa.Text))
    full_text = "post_fts" if db_kind == "sqlite" else "post_search"
    changed.tables[full_text].append_column(sa.Column("extra", sa.Text))
    found = {(diff[0], diff[2], diff[3].name) for diff in _differences(app, changed)}
    assert found == {("add_column", "post", "subtitle"), ("add_column", full_text, "extra")}


def test_schema_comparison_leaves_the_other_databases_tables_out(app, db_kind):
    other = "post_search" if db_kind == "sqlite" else "post_fts"
    with app.app_context(), engine().connect() as conn:
        assert other not in sa.inspect(conn).get_table_names()
    assert not [diff for diff in _differences(app, metadata) if other in repr(diff)]


# --- migration 0003: ids are never handed out again ------------------------------


def _ids(app, sql: str) -> list:
    with app.app_context():
        return [tuple(row) for row in connection().execute(sa.text(sql))]


def _fill_at_0002(app) -> dict[str, int]:
    """A database at revision 0002 holding posts with tags and history, in plain SQL:
    today's services know columns later migrations add."""
    from flaskr import markup
    from flaskr.auth.passwords import hash_password
    from flaskr.db import utcnow

    def add_user(conn, name: str) -> int:
        statement = 'INSERT INTO "user" (username, password) VALUES (:name, :pw) RETURNING id'
        return conn.execute(sa.text(statement), {"name": name, "pw": hash_password(PW)}).scalar()

    def set_tags(conn, post_id: int, names: str) -> None:
        conn.execute(sa.text("DELETE FROM post_tag WHERE post_id = :p"), {"p": post_id})
        for name in names.split():
            tag_id = conn.execute(sa.text("SELECT id FROM tag WHERE name = :n"), {"n": name})
            tag_id = (
                tag_id.scalar()
                or conn.execute(
                    sa.text("INSERT INTO tag (name) VALUES (:n) RETURNING id"), {"n": name}
                ).scalar()
            )
            conn.execute(
                sa.text(
                    "INSERT INTO post_tag (post_id, tag_id, status, published_at) "
                    "SELECT id, :t, status, published_at FROM post WHERE id = :p"
                ),
                {"p": post_id, "t": tag_id},
            )

    def add_post(conn, author: int, title: str, body: str, tags: str = "") -> int:
        html = markup.render(body)
        post_id = conn.execute(
            sa.text(
                "INSERT INTO post (author_id, title, body, status, published_at, created,"
                " body_html, render_version, summary)"
                " VALUES (:a, :t, :b, 'published', :now, :now, :h, :rv, :s) RETURNING id"
            ),
            {
                "a": author,
                "t": title,
                "b": body,
                "now": utcnow(),
                "h": html,
                "rv": markup.RENDER_VERSION,
                "s": markup.summarize_html(html),
            },
        ).scalar()
        set_tags(conn, post_id, tags)
        return post_id

    def revise(conn, post_id: int, body: str, tags: str) -> None:
        conn.execute(
            sa.text(
                "INSERT INTO post_revision (post_id, version, title, body, tags, saved_at)"
                " SELECT id, version, title, body, :old_tags, :now FROM post WHERE id = :p"
            ),
            {"p": post_id, "old_tags": "boats, sea", "now": utcnow()},
        )
        html = markup.render(body)
        conn.execute(
            sa.text(
                "UPDATE post SET body = :b, body_html = :h, summary = :s,"
                " version = version + 1, updated = :now WHERE id = :p"
            ),
            {"p": post_id, "b": body, "h": html, "s": markup.summarize_html(html), "now": utcnow()},
        )
        set_tags(conn, post_id, tags)

    with app.app_context():
        with engine().connect() as conn, conn.begin():
            command.upgrade(alembic_config(conn), "0002")
        with transaction() as conn:
            alice = add_user(conn, "alice")
            bob = add_user(conn, "bob")
            first = add_post(conn, alice, "Lighthouse keeper", "Lamps", "sea")
            second = add_post(conn, bob, "Harbour notes", "Boats", "sea boats")
            newest = add_post(conn, bob, "Draft plans", "Later")
            revise(conn, second, "Boats and gulls", "sea")
            conn.execute(sa.text("DELETE FROM post WHERE id = :id"), {"id": newest})
    return {"alice": alice, "bob": bob, "first": first, "second": second, "deleted": newest}


def test_migration_0003_keeps_every_post_tag_revision_and_search_entry(
    make_app, empty_database, db_kind
):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    made = _fill_at_0002(app)
    tables = ("user", "post", "post_tag", "post_revision", "tag", "user_session")
    # The columns each table had at 0002: later migrations may add more, and
    # 0012 replaced user.is_admin with a role (its own test checks the values).
    with app.app_context():
        names = {
            table: [c["name"] for c in sa.inspect(engine()).get_columns(table)] for table in tables
        }
    names["user"].remove("is_admin")
    columns = {table: ", ".join(f'"{name}"' for name in found) for table, found in names.items()}
    before = {
        table: _ids(app, f'SELECT {columns[table]} FROM "{table}" ORDER BY 1, 2')
        for table in tables
    }
    assert len(before["post_tag"]) == 2 and len(before["post_revision"]) == 1
    with app.app_context():
        assert upgrade_db()
        with engine().connect() as conn:
            assert current_revision(conn) == head_revision()
            if db_kind == "sqlite":
                schema_sql = {
                    name: sql
                    for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master")
                }
                assert "AUTOINCREMENT" in schema_sql["post"]
                assert "AUTOINCREMENT" in schema_sql["user"]
    for table, rows in before.items():
        assert _ids(app, f'SELECT {columns[table]} FROM "{table}" ORDER BY 1, 2') == rows, table
    with app.app_context():
        found = search_posts("gulls", page=1, per_page=10, tag_name="sea", author="bob")
        assert [row["id"] for row in found] == [made["second"]]
        assert [row["id"] for row in search_posts("lighthouse", page=1, per_page=10)] == [
            made["first"]
        ]


def test_triggers_still_fire_after_migration_0003(make_app, empty_database):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    made = _fill_at_0002(app)
    with app.app_context():
        upgrade_db()
        version = "SELECT version FROM content_version WHERE id = 1"
        start = connection().execute(sa.text(version)).scalar()
        post_id = services.create_post(made["alice"], services.Draft("Kite", "Wind", "sky"))
        # The FTS/search triggers: the new post and its tag are searchable.
        assert [r["id"] for r in search_posts("kite", page=1, per_page=5, tag_name="sky")] == [
            post_id
        ]
        # post_tag copies the post's visibility; status changes follow.
        services.revise_post(post_id, services.Draft("Kite", "Wind", "sky", status="draft"))
        assert connection().execute(
            sa.text("SELECT status FROM post_tag WHERE post_id = :id"), {"id": post_id}
        ).scalar() == ("draft")
        # The page cache's counter moves on writes to posts and users.
        assert connection().execute(sa.text(version)).scalar() > start
        # A plain-SQL post gets its default published_at.
        with transaction() as conn:
            conn.execute(
                sa.text("INSERT INTO post (author_id, title, body) VALUES (:a, 'Raw', 'sql')"),
                {"a": made["alice"]},
            )
        raw = (
            connection()
            .execute(sa.text("SELECT created, published_at FROM post WHERE title = 'Raw'"))
            .one()
        )
        assert raw.published_at == raw.created
        # Deleting a post still cascades to its tags and history, and to search.
        services.delete_post(made["second"])
        left = connection().execute(
            sa.text(
                "SELECT (SELECT count(*) FROM post_tag WHERE post_id = :id)"
                " + (SELECT count(*) FROM post_revision WHERE post_id = :id)"
            ),
            {"id": made["second"]},
        )
        assert left.scalar() == 0
        assert search_posts("gulls", page=1, per_page=5) == []


def test_migration_0003_hands_out_new_ids_after_the_newest_post_is_deleted(
    make_app, empty_database
):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    made = _fill_at_0002(app)
    with app.app_context():
        upgrade_db()
        last = services.create_post(made["alice"], services.Draft("Newest", "Soon gone"))
        services.delete_post(last)
        again = services.create_post(made["alice"], services.Draft("After", "New"))
    assert again > last


def test_migration_0003_refuses_to_run_with_foreign_keys_on(make_app, empty_database, db_kind):
    # Run by hand (alembic, not `flaskr upgrade`), the rebuild would cascade
    # the deletion of the old post table into every post's tags and history.
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    _fill_at_0002(app)
    with app.app_context(), engine().connect() as conn, conn.begin():
        if db_kind == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            try:
                command.upgrade(alembic_config(conn), "0003")
            except RuntimeError as error:
                assert "flaskr upgrade" in str(error)
            else:
                raise AssertionError("0003 ran with foreign keys on")
        else:
            command.upgrade(alembic_config(conn), "0003")  # nothing to rebuild on PostgreSQL
    assert len(_ids(app, "SELECT * FROM post_tag")) == 2


def test_migration_0003_downgrades_keeping_the_data(make_app, empty_database):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    _fill_at_0002(app)
    with app.app_context():
        upgrade_db()
    posts = _ids(app, "SELECT id, title FROM post ORDER BY id")
    tags = _ids(app, "SELECT * FROM post_tag ORDER BY 1, 2")
    with app.app_context(), engine().connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            command.downgrade(alembic_config(conn), "0002")
        assert current_revision(conn) == "0002"
    assert _ids(app, "SELECT id, title FROM post ORDER BY id") == posts
    assert _ids(app, "SELECT * FROM post_tag ORDER BY 1, 2") == tags


# --- ids are never reused, on both databases ---------------------------------------


def test_deleted_newest_posts_id_is_never_handed_out_again(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    client.post("/create", data={"title": "First", "body": "one"})
    client.post("/create", data={"title": "Second", "body": "two"})
    assert client.post("/2/delete").status_code == 302
    client.post("/create", data={"title": "Third", "body": "three"})
    assert _ids(app, "SELECT id, title FROM post ORDER BY id") == [(1, "First"), (3, "Third")]
    # The deleted post's address is gone, not redirected to an unrelated post.
    assert client.get("/2/").status_code == 404


def test_deleted_newest_users_id_is_never_handed_out_again(app, make_user):
    from flaskr.auth.services import delete_account

    make_user("alice", PW)
    bob = make_user("bob", PW)
    with app.app_context():
        delete_account(bob, PW)
    assert make_user("carol", PW) == bob + 1


def test_demo_data_never_reuses_a_deleted_posts_id(app, runner, make_user, make_post):
    author = make_user("alice", PW)
    make_post(author, title="Kept")
    gone = make_post(author, title="Gone")
    with app.app_context():
        services.delete_post(gone)
    result = runner.invoke(args=["demo-data", "--users", "1", "--posts", "3", "--tags", "2"])
    assert result.exit_code == 0, result.output
    ids = [i for (i,) in _ids(app, "SELECT id FROM post ORDER BY id")]
    assert ids[0] == gone - 1 and min(ids[1:]) > gone
    # Ids handed out after the bulk load continue above it, too.
    latest = make_post(author, title="After the demo")
    assert latest > max(ids)


# --- 0006: the search document by PL/pgSQL -------------------------------------------


def _documents(app) -> list:
    return _ids(app, "SELECT post_id, document::text FROM post_search ORDER BY post_id")


def test_migration_0006_builds_the_same_search_document_by_plpgsql(app, db_kind, make_user):
    if db_kind == "sqlite":
        return  # PostgreSQL's function only; SQLite's FTS5 triggers are untouched
    author = make_user("alice")
    with app.app_context():
        services.create_post(
            author, services.Draft(title="A <canvas> kite", body="Gulls fly", tags="sky, sea")
        )
    language = "SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
    language += "WHERE p.proname = 'flaskr_post_document' "
    language += "AND p.pronamespace = current_schema()::regnamespace"
    assert _ids(app, language) == [("plpgsql",)]
    now = _documents(app)
    assert now[0][1] == "'alic':6B 'canva':2A 'fli':8 'gull':7 'kite':3A 'sea':5B 'sky':4B"
    with app.app_context(), engine().connect() as conn:
        with conn.begin():
            command.downgrade(alembic_config(conn), "0005")
        assert _ids(app, language) == [("sql",)]
        with conn.begin():
            conn.execute(sa.text("UPDATE post SET title = title"))  # the triggers rebuild it
        assert _documents(app) == now
        with conn.begin():
            command.upgrade(alembic_config(conn), "head")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE post SET title = title"))
    assert _documents(app) == now and _ids(app, language) == [("plpgsql",)]


def _upgrade_to(revision: str) -> None:
    """Migrate the app's empty database up to one revision, as `flaskr upgrade` would
    (foreign keys off on SQLite, for 0003)."""
    with engine().connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            command.upgrade(alembic_config(conn), revision)


# --- 0012: roles replace is_admin ---------------------------------------------------


def test_migration_0012_makes_stored_admins_admins_and_everyone_else_an_author(
    make_app, empty_database
):
    # `create-user --admin` stored is_admin before anything read it.
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context():
        _upgrade_to("0011")
        with transaction() as conn:
            for name, is_admin in (("root", True), ("alice", False)):
                conn.execute(
                    sa.text(
                        'INSERT INTO "user" (username, password, is_admin) VALUES (:n, :p, :a)'
                    ),
                    {"n": name, "p": "x", "a": is_admin},
                )
        upgrade_db()
        with engine().connect() as conn:
            rows = conn.execute(sa.text('SELECT username, role FROM "user"')).all()
        assert dict(rows) == {"root": "admin", "alice": "author"}
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0011")
        with engine().connect() as conn:
            back = conn.execute(sa.text('SELECT username, is_admin FROM "user"')).all()
        assert {name: bool(flag) for name, flag in back} == {"root": True, "alice": False}


# --- 0018: audit log bursts ---------------------------------------------------------


def test_migration_0018_counts_old_entries_once_and_downgrades_keeping_them(
    make_app, empty_database
):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    insert = "INSERT INTO audit_log (at, event, details) VALUES (:at, 'login-failed', :d)"
    with app.app_context():
        _upgrade_to("0017")
        with transaction() as conn:
            conn.execute(sa.text(insert), {"at": datetime(2026, 1, 1), "d": "old"})
        upgrade_db()
        with engine().connect() as conn:
            rows = conn.execute(sa.text("SELECT details, times, last_at FROM audit_log")).all()
        assert [tuple(row) for row in rows] == [("old", 1, None)]
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0017")
        with transaction() as conn:
            conn.execute(sa.text("DELETE FROM audit_log"))
            conn.execute(sa.text(insert), {"at": datetime(2026, 1, 2), "d": "new"})
        with engine().connect() as conn:
            rows = conn.execute(sa.text("SELECT id, details FROM audit_log")).all()
        assert [tuple(row) for row in rows] == [(2, "new")]  # ids are still never reused


# --- 0028: tag names on the post row ------------------------------------------------


def test_migration_0028_writes_the_tag_names_of_posts_already_tagged(make_app, empty_database):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context():
        _upgrade_to("0027")
        with transaction() as conn:
            conn.execute(
                sa.text("INSERT INTO \"user\" (id, username, password) VALUES (1, 'alice', 'x');")
            )
            for post_id in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO post (id, author_id, title, body, published_at)"
                        " VALUES (:id, 1, 'T', 'B', :at)"
                    ),
                    {"id": post_id, "at": datetime(2026, 1, 1)},
                )
            conn.execute(sa.text("INSERT INTO tag (id, name) VALUES (1, 'zeta'), (2, 'alpha')"))
            conn.execute(sa.text("INSERT INTO post_tag (post_id, tag_id) VALUES (1, 1), (1, 2)"))
        upgrade_db()
        with engine().connect() as conn:
            rows = conn.execute(sa.text("SELECT id, tag_names FROM post ORDER BY id")).all()
        assert [(row[0], split_names(row[1])) for row in rows] == [(1, ["alpha", "zeta"]), (2, [])]
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0027")
        with transaction() as conn:  # no trigger is left writing to a column that is gone
            conn.execute(sa.text("INSERT INTO post_tag (post_id, tag_id) VALUES (2, 1)"))
            conn.execute(sa.text("UPDATE tag SET name = 'omega' WHERE id = 1"))
            conn.execute(sa.text("DELETE FROM post_tag WHERE post_id = 1"))
        upgrade_db()
        with engine().connect() as conn:
            rows = conn.execute(sa.text("SELECT id, tag_names FROM post ORDER BY id")).all()
        assert [(row[0], split_names(row[1])) for row in rows] == [(1, []), (2, ["omega"])]
