"""Values learned by LISTEN/NOTIFY: vouched for only while certainly current."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
import sqlalchemy as sa

from flaskr.blog import queries
from flaskr.db import get_db, notified, notified_value
from flaskr.db.postgresql import libpq_conninfo

CONTENT_SQL = "SELECT version FROM content_version WHERE id = 1"


def wait_until(check, seconds: float = 5.0) -> bool:
    """Poll check() until it is true or seconds pass; its last answer."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def content_watch(app) -> notified.NotifiedValue:
    with app.app_context():
        watch = notified_value(queries.CONTENT_CHANNEL, queries._content_version_sql())
    assert watch is not None
    return watch


def wait_until_vouched(app) -> None:
    """Wait until the app's content-version listener vouches for the version."""
    watch = content_watch(app)
    assert wait_until(lambda: watch.get()[0]), "the listener never vouched for the version"


def server_connection(app) -> psycopg.Connection:
    """A plain connection, as another server or a psql session would have."""
    url = sa.make_url(app.config["DATABASE_URL"])
    return psycopg.connect(libpq_conninfo(url), autocommit=True)


@pytest.fixture
def quiet_heartbeat(monkeypatch):
    """Listeners started now read only when notified (a heartbeat a minute apart)."""
    monkeypatch.setattr(notified, "HEARTBEAT_SECONDS", 60.0)
    monkeypatch.setattr(notified, "STALE_SECONDS", 120.0)


def own_watch(app, channel: str, monkeypatch) -> notified.NotifiedValue:
    """A new watch of the content version on a channel of its own (no trigger notifies it)."""
    url = app.extensions["flaskr.engine"].url
    watch = notified.NotifiedValue(libpq_conninfo(url), channel, CONTENT_SQL, app.config)
    # Known to committed(), as every watch of this process is.
    monkeypatch.setitem(notified._watches, ("test", channel, CONTENT_SQL), watch)
    return watch


# --- which databases listen ---------------------------------------------------------


def test_only_postgresql_listens_and_only_when_allowed(make_app, db_kind):
    with make_app().app_context():
        watch = notified_value(queries.CONTENT_CHANNEL, CONTENT_SQL)
    with make_app(DATABASE_LISTEN=False).app_context():
        assert notified_value(queries.CONTENT_CHANNEL, CONTENT_SQL) is None
    if db_kind == "sqlite":
        assert watch is None
    else:
        assert isinstance(watch, notified.NotifiedValue)
        # One listener per database, channel and query, however many apps ask.
        assert watch is notified.watch(
            make_app().extensions["flaskr.engine"].url, queries.CONTENT_CHANNEL, CONTENT_SQL, {}
        )


# --- when a value is vouched for (no database needed) -----------------------------


@pytest.fixture
def idle_watch():
    """A watch whose listener is never started (it belongs to this process already)."""
    watch = notified.NotifiedValue("postgresql://unused", "flaskr_unused", "SELECT 1", _SETTINGS)
    watch._pid = os.getpid()
    return watch


_SETTINGS = {"DATABASE_CONNECT_TIMEOUT": 2, "DATABASE_STATEMENT_TIMEOUT": 1}


def test_a_fresh_read_is_vouched_for(idle_watch):
    assert idle_watch.get() == (False, None)  # never read
    idle_watch.read = (time.monotonic(), 7)
    assert idle_watch.get() == (True, 7)


def test_a_read_older_than_the_stale_limit_is_not(idle_watch):
    idle_watch.read = (time.monotonic() - notified.STALE_SECONDS - 0.05, 7)
    assert idle_watch.get() == (False, None)
    idle_watch.read = (time.monotonic() - notified.STALE_SECONDS + 0.5, 7)
    assert idle_watch.get() == (True, 7)


def test_a_change_after_the_read_withdraws_it_until_the_next_read(idle_watch):
    idle_watch.read = (time.monotonic(), 7)
    idle_watch.moved()
    assert idle_watch.get() == (False, None)
    idle_watch.read = (time.monotonic(), 8)
    assert idle_watch.get() == (True, 8)


def test_a_commit_anywhere_in_the_process_withdraws_every_value(idle_watch):
    notified._watches[("test", "test", "test")] = idle_watch
    try:
        idle_watch.read = (time.monotonic(), 7)
        notified.committed()
        assert idle_watch.get() == (False, None)
    finally:
        del notified._watches[("test", "test", "test")]


# --- the listener, on PostgreSQL ---------------------------------------------------


def test_the_bump_triggers_notify_once_per_committed_transaction(
    app, db_kind, make_user, make_post
):
    author = make_user("ann")
    if db_kind == "sqlite":
        return  # SQLite has no NOTIFY: every hit reads the version (test_pagecache)
    with server_connection(app) as listener:
        listener.execute(f"LISTEN {queries.CONTENT_CHANNEL}")
        with server_connection(app) as writer, writer.transaction():
            writer.execute("UPDATE \"user\" SET bio = 'x' WHERE id = %s", (author,))
            writer.execute("UPDATE \"user\" SET bio = 'y' WHERE id = %s", (author,))
            # Nothing is sent before the commit.
            assert list(listener.notifies(timeout=0.2)) == []
        heard = list(listener.notifies(timeout=0.5))
        assert [n.channel for n in heard] == [queries.CONTENT_CHANNEL]
        make_post(author)
        assert list(listener.notifies(timeout=0.5, stop_after=1))


def test_a_notification_is_read_at_once(app, db_kind, quiet_heartbeat, monkeypatch):
    if db_kind == "sqlite":
        return
    watch = own_watch(app, "flaskr_test_notified", monkeypatch)
    assert wait_until(lambda: watch.get()[0])
    before = watch.get()[1]
    with server_connection(app) as other:
        other.execute("UPDATE content_version SET version = version + 100")
        # The heartbeat is a minute away: only the notification can tell the listener.
        assert watch.get() == (True, before)
        other.execute("NOTIFY flaskr_test_notified")
    assert wait_until(lambda: watch.get() == (True, before + 100), 3.0)


def test_this_process_s_own_commit_is_not_vouched_past(app, db_kind, quiet_heartbeat, monkeypatch):
    if db_kind == "sqlite":
        return
    watch = own_watch(app, "flaskr_test_own_commit", monkeypatch)
    assert wait_until(lambda: watch.get()[0])
    with app.app_context():
        db = get_db()  # the tutorial's raw connection commits through the same hook
        db.execute("UPDATE content_version SET version = version + 1")
        db.commit()
    # No notification on this channel and no heartbeat for a minute: not vouched.
    assert watch.get() == (False, None)
    time.sleep(0.2)
    assert watch.get() == (False, None)


def test_a_cut_listener_stops_vouching_and_comes_back(app, db_kind):
    if db_kind == "sqlite":
        return
    watch = content_watch(app)
    assert wait_until(lambda: watch.get()[0])
    with server_connection(app) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'flaskr-listen' AND pid <> pg_backend_pid()"
        ).fetchall()
        assert cut and all(row[0] for row in cut)
    # Until it has connected again and read, nothing is vouched for.
    assert wait_until(lambda: not watch.get()[0], notified.RETRY_SECONDS)
    assert wait_until(lambda: watch.get()[0], notified.RETRY_SECONDS + 5)


def test_another_server_s_write_reaches_cached_pages(client, app, db_kind, make_user, make_post):
    make_post(make_user("ann"), title="Old title")
    assert b"Old title" in client.get("/").data
    if db_kind == "sqlite":
        other = get_sqlite_connection(app)
    else:
        wait_until_vouched(app)
        other = server_connection(app)
    with other:
        other.execute("UPDATE post SET title = 'New title'")
        if db_kind == "sqlite":
            other.commit()
    # Well inside a heartbeat: the notification, not the once-a-second read, told us.
    assert wait_until(lambda: b"New title" in client.get("/").data, notified.HEARTBEAT_SECONDS / 2)


def get_sqlite_connection(app):
    import sqlite3

    return sqlite3.connect(app.config["DATABASE"])


def test_a_listener_nobody_asks_stops_and_starts_again(app, db_kind, monkeypatch):
    if db_kind == "sqlite":
        return
    monkeypatch.setattr(notified, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(notified, "IDLE_SECONDS", 0.3)
    watch = own_watch(app, "flaskr_test_idle", monkeypatch)
    assert wait_until(lambda: watch.get()[0])
    # Not asked (no get()): the thread ends and forgets its value.
    assert wait_until(lambda: watch._pid is None, 3.0)
    assert watch.read == notified._NEVER
    assert wait_until(lambda: watch.get()[0])


def test_the_listener_reaches_the_database_the_url_names_options_included():
    # libpq reads a "+" in a URL's query as a plus; SQLAlchemy writes a space so.
    from psycopg.conninfo import conninfo_to_dict

    url = sa.make_url(
        "postgresql+psycopg://ann:p%40ss@db.example:6432/blog"
        "?options=-csearch_path%3Dx+-csynchronous_commit%3Doff&sslmode=require"
    )
    assert conninfo_to_dict(libpq_conninfo(url)) == {
        "user": "ann",
        "password": "p@ss",
        "host": "db.example",
        "port": "6432",
        "dbname": "blog",
        "options": "-csearch_path=x -csynchronous_commit=off",
        "sslmode": "require",
    }


def test_a_feed_learns_the_last_change_from_the_listener(
    client, app, db_kind, make_user, make_post
):
    """Its ETag and Last-Modified need the content version and its time: on PostgreSQL
    the listener knows both, so a feed is one statement (one round trip), its list."""
    make_post(make_user("ann"), title="Listed")
    if db_kind == "sqlite":
        return
    client.get("/hello")  # the first request checks migrations
    wait_until_vouched(app)
    with app.app_context():
        from flaskr.db.prepared import once_per_app

        asked = dict(once_per_app(queries._content_version).first())
        assert queries.find_last_change() == asked  # the same values, the same types
        assert queries.content_version() == asked["version"]
        engine = app.extensions["flaskr.engine"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/feed.atom")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200 and b"Listed" in response.data
    assert not [s for s in statements if "content_version" in s], statements
