"""db.prepared: the hot reads on the driver's cursor give what SQLAlchemy's execute gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from dbstate import driver_in_transaction

from flaskr.blog import queries
from flaskr.blog.tables import content_version, post
from flaskr.db import connection, transaction, utcnow
from flaskr.db.postgresql import KEPT_CURSOR
from flaskr.db.prepared import Prepared


@pytest.fixture
def posts(app, make_user, make_post):
    author = make_user("alice")
    now = utcnow()
    for n in range(4):
        make_post(
            author,
            title=f"P{n}",
            tags="cats, dogs" if n % 2 else "",
            publish_at=now - timedelta(hours=n),
        )
    make_post(author, title="Later", publish_at=now + timedelta(days=1))
    return author


def test_every_reader_list_gives_the_same_rows_as_sqlalchemy(app, posts):
    with app.app_context():
        first = queries.list_reader_posts(limit=2)
        params_by_kind = {
            "all": {},
            "author": {"author_name": "alice"},
            "tag": {"tag_name": "cats"},
        }
        for kind, seek in [(kind, seek) for kind in queries.LISTS for seek in (False, True)]:
            prepared = queries._reader_list(kind, seek)
            params = {"now": utcnow(), "limit": 3, "offset": 1, **params_by_kind[kind]}
            if seek:
                params.update(start_at=first[1]["published_at"], start_id=first[1]["id"])
            mine = prepared.rows(params)
            theirs = [
                dict(row) for row in connection().execute(prepared.statement, params).mappings()
            ]
            assert mine == theirs and mine, (kind, seek)
            assert all(
                type(a) is type(b)
                for r1, r2 in zip(mine, theirs)
                for a, b in zip(r1.values(), r2.values())
            )


def test_datetimes_go_in_and_come_out_as_sqlalchemy_converts_them(app, posts):
    with app.app_context():
        row = queries.find_post(1)
        assert row is not None
        found = Prepared(
            sa.select(post.c.id).where(
                post.c.published_at == sa.bindparam("at", type_=sa.DateTime())
            )
        )
        assert found.scalar({"at": row["published_at"]}) == 1
        assert queries.next_publication(utcnow()) > utcnow()


def test_cursor_listeners_see_prepared_statements(app, posts):
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    # A statement of its own: content_version() may be answered by PostgreSQL's
    # listener without any query (flaskr.db.notified), which made this test flaky.
    versions = Prepared(sa.select(content_version.c.version))
    engine = app.extensions["flaskr.engine"]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            assert versions.rows()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert any("content_version" in statement for statement in seen)


def test_a_cursor_of_another_connection_is_never_used(app, posts):
    # On PostgreSQL each pooled connection keeps the cursor its reads run on
    # (db.postgresql.kept_cursor); one left over from another connection (as
    # after a reconnection), or closed, must not serve this one's statements.
    used = []

    def record(conn, cursor, statement, params, context, executemany):
        used.append(cursor)

    latest = Prepared(sa.select(post.c.id).order_by(post.c.id.desc()).limit(1))
    engine = app.extensions["flaskr.engine"]
    with app.app_context():
        conn = connection()
        other = engine.connect()
        try:
            sa.event.listen(engine, "before_cursor_execute", record)
            try:
                conn.info[KEPT_CURSOR] = other.connection.driver_connection.cursor()
                assert latest.rows() == latest.rows()
                closed = conn.connection.driver_connection.cursor()
                closed.close()
                conn.info[KEPT_CURSOR] = closed
                assert latest.rows()
            finally:
                sa.event.remove(engine, "before_cursor_execute", record)
        finally:
            other.close()
        assert len(used) == 3
        assert all(cursor.connection is conn.connection.driver_connection for cursor in used)
        assert used[-1] is not closed


#: A statement of its own: content_version() may be answered by PostgreSQL's
#: listener without any query (flaskr.db.notified), which made tests flaky.
NEWEST_ID = sa.select(post.c.id).order_by(post.c.id.desc()).limit(1)
RETITLE = sa.text("UPDATE post SET title = 'Retitled' WHERE id = :id")


def test_a_prepared_read_outside_a_transaction_opens_none(app, posts):
    # Each read is a statement of its own on both databases: no BEGIN before it,
    # no rollback to end it (4-5% of a cold list page on SQLite).
    latest = Prepared(NEWEST_ID)
    with app.app_context():
        conn = connection()
        assert latest.rows()
        assert not conn.in_transaction()
        assert not driver_in_transaction(conn)


def test_a_prepared_read_in_a_write_transaction_sees_its_uncommitted_writes(app, posts):
    titles = Prepared(sa.select(post.c.title).where(post.c.id == sa.bindparam("id")))
    with app.app_context():
        newest = Prepared(NEWEST_ID).scalar()
        with pytest.raises(RuntimeError), transaction() as conn:
            conn.execute(RETITLE, {"id": newest})
            assert titles.scalar({"id": newest}) == "Retitled"
            raise RuntimeError("undo")
        assert titles.scalar({"id": newest}) != "Retitled"


def test_a_read_after_a_write_in_the_same_request_leaves_no_transaction_behind(app, posts):
    # After transaction() PostgreSQL's driver is out of autocommit: a read there
    # begins a transaction, which SQLAlchemy must know of to end it. A kept
    # connection left inside one would hold its snapshot into the next request.
    latest = Prepared(NEWEST_ID)
    with app.test_request_context():
        with transaction() as conn:
            conn.execute(RETITLE, {"id": latest.scalar()})
        assert latest.rows()
        assert conn.in_transaction() or not driver_in_transaction(conn)
    [kept] = app.extensions["flaskr.kept"].idle
    assert kept is conn
    assert not driver_in_transaction(kept)
    with app.test_request_context():
        assert connection() is kept
        assert latest.rows()


def test_a_database_error_comes_as_sqlalchemys_error(app):
    broken = Prepared(sa.select(sa.column("x")).select_from(sa.table("no_such_table")))
    with app.app_context(), pytest.raises(sa.exc.DBAPIError) as raised:
        broken.rows()
    assert "no_such_table" in str(raised.value)


def test_statements_whose_sql_changes_per_call_are_refused(app):
    expanding = Prepared(
        sa.select(post.c.id).where(post.c.id.in_(sa.bindparam("ids", expanding=True)))
    )
    with app.app_context(), pytest.raises(ValueError, match="literal-execute or expanding"):
        expanding.rows({"ids": [1]})


def test_statements_are_built_once_per_app(make_app):
    from flaskr.db.prepared import once_per_app

    made = []

    def build(kind: str) -> object:
        made.append(kind)
        return object()

    first, second = make_app(), make_app()
    with first.app_context():
        one = once_per_app(build, "a")
        assert once_per_app(build, "a") is one
        assert once_per_app(build, "b") is not one
    with second.app_context():
        assert once_per_app(build, "a") is not one
    assert made == ["a", "b", "a"]


def test_literals_in_a_statement_are_bound_like_sqlalchemy_binds_them(app, posts):
    """A literal is an anonymous parameter whose name exists only once compiled:
    its converter must be found under that name (a Numeric literal has one on SQLite)."""
    literal = sa.literal(2.5, sa.Numeric(asdecimal=False))
    statement = sa.select(post.c.id).where(post.c.id * literal > 3).order_by(post.c.id)
    with app.app_context():
        mine = Prepared(statement).rows()
        theirs = [dict(row) for row in connection().execute(statement).mappings()]
    assert mine == theirs and [row["id"] for row in mine] == [2, 3, 4, 5]


def _statements_seen(app, run) -> list[str]:
    """The SQL texts run() sends to the database."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    engine = app.extensions["flaskr.engine"]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def test_inline_limit_and_offset_are_written_into_the_sql_with_the_same_rows(app, posts):
    statement = (
        sa.select(post.c.id)
        .order_by(post.c.id)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )
    paged = Prepared(statement, inline=("limit", "offset"))
    got = {}

    def run():
        got["rows"] = paged.rows({"limit": 2, "offset": 1})
        got["theirs"] = [
            dict(row)
            for row in connection().execute(statement, {"limit": 2, "offset": 1}).mappings()
        ]

    seen = _statements_seen(app, run)
    assert got["rows"] == got["theirs"] and [row["id"] for row in got["rows"]] == [2, 3]
    assert "LIMIT 2 OFFSET 1" in seen[0]


def test_whole_numbers_fixed_when_built_are_written_into_the_sql(app, posts):
    latest = Prepared(sa.select(post.c.id).order_by(post.c.id.desc()).limit(1))
    got = {}
    seen = _statements_seen(app, lambda: got.setdefault("rows", latest.rows()))
    assert got["rows"] == [{"id": 5}]
    assert "LIMIT 1" in seen[0]


def test_past_max_texts_other_values_are_bound_and_rows_stay_right(app, posts):
    from flaskr.db.prepared import MAX_TEXTS

    paged = Prepared(
        sa.select(post.c.id).order_by(post.c.id).limit(sa.bindparam("limit")),
        inline=("limit",),
    )
    got: dict[int, list] = {}

    def run():
        for limit in range(1, MAX_TEXTS + 3):
            got[limit] = [row["id"] for row in paged.rows({"limit": limit})]

    seen = _statements_seen(app, run)
    assert all(got[limit] == list(range(1, min(limit, 5) + 1)) for limit in got)
    assert len(set(seen)) == MAX_TEXTS + 1  # one text per value, then one bound text
    assert "LIMIT 1 " in seen[0] + " " and f"LIMIT {MAX_TEXTS + 2}" not in seen[-1]


def test_a_value_that_is_not_a_whole_number_is_bound(app, posts):
    paged = Prepared(
        sa.select(post.c.id).order_by(post.c.id).limit(sa.bindparam("limit")),
        inline=("limit",),
    )
    got = {}
    seen = _statements_seen(app, lambda: got.setdefault("rows", paged.rows({"limit": "2"})))
    assert [row["id"] for row in got["rows"]] == [1, 2]
    assert "LIMIT 2" not in seen[0]


def test_a_reader_list_is_one_text_with_its_numbers_planned_once(app, posts, db_kind):
    """With LIMIT bound as $1 PostgreSQL cannot price a generic plan, so it planned the
    list anew on every page view (twice the time of running it)."""
    plans = {}

    def run():
        for _ in range(12):
            queries.list_reader_posts(limit=3)
        if db_kind == "postgresql":
            plans["pg"] = (
                connection()
                .exec_driver_sql(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE strpos(statement, 'post_like_count') > 0"
                )
                .one()
            )

    seen = {
        text
        for text in _statements_seen(app, run)
        if "post_like_count" in text and "pg_prepared_statements" not in text
    }
    assert len(seen) == 1 and "LIMIT 3 OFFSET 0" in seen.pop()
    if db_kind == "postgresql":
        assert plans["pg"].generic_plans > 0 and plans["pg"].custom_plans < 6


def test_text_that_is_not_utf8_reads_forgivingly_and_the_connection_stays_forgiving(
    app, posts, db_kind
):
    if db_kind != "sqlite":
        return  # PostgreSQL stores no such text (test_feeds shows it refuses it)
    title = Prepared(sa.select(post.c.title).where(post.c.id == sa.bindparam("id")))
    with app.app_context():
        conn = connection()
        conn.execute(sa.text("UPDATE post SET title = 'a' || CAST(x'ff' AS TEXT) WHERE id = 1"))
        assert title.scalar({"id": 2}) == "P1"  # valid text: the driver's own decoding
        assert title.scalar({"id": 1}) == "a\ufffd"
        # The next read through SQLAlchemy decodes forgivingly too.
        odd = conn.execute(sa.text("SELECT title FROM post WHERE id = 1")).scalar()
        assert odd == "a\ufffd"


def test_other_database_errors_are_not_taken_for_bad_text(app, posts):
    with app.app_context(), pytest.raises(sa.exc.DBAPIError, match="nowhere"):
        Prepared(sa.select(sa.literal_column("nowhere")).select_from(post)).rows()
