"""A database that is down, hung or unusable: 503s within seconds; a wrong query: a 500."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from faults import TcpProxy, silent_server, within, without_root_file_powers
from flask import Flask
from test_notified import content_watch, wait_until

from flaskr.db import connection, engine, notified
from flaskr.db.outages import is_outage

PW = "a long enough pw"


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Service Unavailable" in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()


def _proxied(make_app, app_config, **settings) -> tuple[TcpProxy, Flask]:
    """A started relay to this test's PostgreSQL, and an app that connects through it."""
    url = sa.make_url(app_config["DATABASE_URL"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    return proxy, make_app(DATABASE_URL=url.set(host="127.0.0.1", port=proxy.port), **settings)


def test_database_outage_is_a_503_and_recovers_without_restart(
    make_app, make_user, make_post, db_kind, tmp_path, app_config
):
    if db_kind == "postgresql":
        proxy, app = _proxied(make_app, app_config)
        client = app.test_client()
        user_id = make_user("alice")
        make_post(user_id, title="Still here")
        assert b"Still here" in client.get("/").data
        proxy.stop()
        # A page not kept needs the database at once.
        _assert_unavailable(client.get("/u/alice"))
        # A kept page is served only while the listener vouches for it: it hears
        # its connection end (EOF) at once, a silent one within STALE_SECONDS.
        watch = content_watch(app)
        assert wait_until(lambda: not watch.get()[0], 1.0)
        _assert_unavailable(client.get("/"))
        proxy.start()
        assert b"Still here" in client.get("/").data
        proxy.stop()
        return
    # SQLite: the database file's folder is replaced by a file, then restored.
    folder = tmp_path / "volume"
    app = make_app(DATABASE=str(folder / "flaskr.sqlite"))
    client = app.test_client()
    os.rmdir(folder)
    folder.write_text("not a folder")
    _assert_unavailable(client.get("/"))
    folder.unlink()
    folder.mkdir()
    assert client.get("/").status_code == 200


# --- a hung database: timeouts ------------------------------------------------------


def test_server_that_never_answers_a_new_connection_is_a_503_within_the_connect_timeout(
    make_app,
):
    with silent_server() as port:
        app = make_app(
            DATABASE_URL=f"postgresql+psycopg://flaskr@127.0.0.1:{port}/flaskr",
            DATABASE_CONNECT_TIMEOUT=2,
            AUTO_MIGRATE=False,
        )
        response, elapsed = within(20, lambda: app.test_client().get("/"))
    _assert_unavailable(response)
    assert 1.5 < elapsed < 6


def test_database_that_stops_answering_mid_request_is_a_503_within_seconds(
    make_app, make_user, make_post, db_kind, app_config
):
    settings = {"DATABASE_STATEMENT_TIMEOUT": 1, "DATABASE_CONNECT_TIMEOUT": 2}
    if db_kind == "sqlite":
        # A writer that never lets go of the lock (a stuck process, a stale NFS lock).
        app = make_app(**settings)
        author = make_user("alice", PW)
        client = app.test_client()
        client.post("/auth/login", data={"username": "alice", "password": PW})
        holder = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            response, elapsed = within(
                20, lambda: client.post("/create", data={"title": "Wait", "body": "b"})
            )
        finally:
            holder.close()
        _assert_unavailable(response)
        assert elapsed < 5
        assert client.post("/create", data={"title": "Now", "body": "b"}).status_code == 302
        assert author
        return
    # PostgreSQL: the server process stops answering, connections stay open.
    proxy, app = _proxied(make_app, app_config, **settings)
    make_post(make_user("alice", PW), title="Still here")
    client = app.test_client()
    try:
        assert b"Still here" in client.get("/").data  # the pool now holds a connection
        watch = content_watch(app)
        assert wait_until(lambda: watch.get()[0])
        proxy.freeze()
        frozen = time.monotonic()
        response, elapsed = within(30, lambda: client.get("/u/alice"))
        _assert_unavailable(response)
        # The pooled connection is cut after statement timeout + grace, a new
        # one gives up after the connect timeout.
        assert elapsed < 8
        # The listener hears nothing from a frozen server: its last read stops
        # counting after STALE_SECONDS, and the kept page is no longer served.
        assert wait_until(lambda: not watch.get()[0], notified.STALE_SECONDS + 1)
        assert time.monotonic() - frozen >= notified.STALE_SECONDS - 1
        _assert_unavailable(within(30, lambda: client.get("/"))[0])
        proxy.thaw()
        assert b"Still here" in client.get("/").data
    finally:
        proxy.stop()


def test_statement_on_a_stopped_postgresql_is_cut_client_side(make_app, db_kind, app_config):
    if db_kind == "sqlite":
        # SQLite has no server to stop; its bound is the busy timeout, set from the same setting.
        app = make_app(DATABASE_STATEMENT_TIMEOUT=1.5)
        with app.app_context():
            assert connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
        return
    proxy, app = _proxied(make_app, app_config, DATABASE_STATEMENT_TIMEOUT=1)
    try:
        with app.app_context():
            conn = connection()
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1s"
            proxy.freeze()
            with pytest.raises(sa.exc.OperationalError) as error:
                within(20, lambda: conn.exec_driver_sql("SELECT 1").scalar())
            assert is_outage(error.value)
    finally:
        proxy.stop()


def test_slow_statement_is_cancelled_by_the_statement_timeout_as_a_503(make_app, db_kind):
    app = make_app(DATABASE_STATEMENT_TIMEOUT=1, PROPAGATE_EXCEPTIONS=False)
    if db_kind == "sqlite":
        # No statement runs long on SQLite except by waiting for the lock, tested above.
        with app.app_context():
            assert connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 1000
        return

    def slow() -> str:
        connection().exec_driver_sql("SELECT pg_sleep(30)")
        return "done"

    app.add_url_rule("/slow", "slow", slow)
    response, elapsed = within(20, lambda: app.test_client().get("/slow"))
    _assert_unavailable(response)
    assert elapsed < 4


def test_request_waits_for_a_pooled_connection_no_longer_than_the_pool_timeout(make_app):
    app = make_app(DATABASE_POOL_TIMEOUT=1)
    with app.app_context():
        pool = engine().pool
        held = [engine().connect() for _ in range(pool.size() + pool._max_overflow)]  # type: ignore[attr-defined]
        try:
            response, elapsed = within(20, lambda: app.test_client().get("/"))
        finally:
            for conn in held:
                conn.close()
    _assert_unavailable(response)
    assert elapsed < 4


def test_timeouts_can_be_turned_off(make_app, db_kind):
    app = make_app(DATABASE_STATEMENT_TIMEOUT=0)
    with app.app_context():
        if db_kind == "sqlite":
            assert connection().exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10**8
        else:
            assert connection().exec_driver_sql("SHOW statement_timeout").scalar() == "0"


# --- a wrong query is a bug, not an outage --------------------------------------------

BROKEN = {
    "sqlite": [
        "SELECT * FROM no_such_table",  # OperationalError: no such table
        "SELECT no_such_column FROM post",  # OperationalError: no such column
        "SELEKT 1",  # OperationalError: syntax error
    ],
    "postgresql": [
        "SELEKT 1",  # ProgrammingError: syntax error
        "SELECT no_such_column FROM post",  # ProgrammingError: undefined column
        # An OperationalError class that says nothing about the connection:
        "DO $$ BEGIN RAISE EXCEPTION 'two writers' USING ERRCODE = '40P01'; END $$",
    ],
}


@pytest.mark.parametrize("number", range(3))
def test_query_error_is_a_500_logged_with_its_traceback(make_app, db_kind, number, caplog):
    statement = BROKEN[db_kind][number]
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken() -> str:
        connection().exec_driver_sql(statement)
        return "unreachable"

    app.add_url_rule("/broken", "broken", broken)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "Traceback" not in page and statement not in page
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "Exception on /broken [GET]"
    assert isinstance(record.exc_info[1], sa.exc.DBAPIError)
    assert not any("database unavailable" in r.getMessage() for r in caplog.records)


def test_missing_tables_are_a_500_not_an_outage(make_app, empty_database, caplog):
    app = make_app(AUTO_MIGRATE=False, PROPAGATE_EXCEPTIONS=False, **empty_database)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/")
    assert response.status_code == 500
    assert any(r.exc_info for r in caplog.records)


def test_unreachable_postgresql_is_a_503(make_app):
    with silent_server() as port:
        pass  # the port is closed again: connections are refused
    app = make_app(DATABASE_URL=f"postgresql+psycopg://flaskr@127.0.0.1:{port}/flaskr")
    _assert_unavailable(app.test_client().get("/"))


def test_postgresql_ending_the_connection_mid_request_is_a_503(make_app, db_kind):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    if db_kind == "sqlite":
        # The SQLite counterparts: a file that is not a database at all.
        with open(app.config["DATABASE"], "wb") as f:
            f.write(b"this is not a database, just some text" * 100)
        _assert_unavailable(app.test_client().get("/"))
        return

    def terminated() -> str:
        # The server ends this request's own backend (an administrator, a restart).
        connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        return "unreachable"

    app.add_url_rule("/terminated", "terminated", terminated)
    _assert_unavailable(app.test_client().get("/terminated"))
    assert app.test_client().get("/").status_code == 200


# --- the command line: one sentence, not a traceback ----------------------------------

FLASKR = str(Path(sys.executable).with_name("flaskr"))


def _unusable_database(kind: str, tmp_path: Path) -> dict[str, str]:
    """FLASKR_* settings naming a database that can't be opened, for the given reason."""
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "flaskr.sqlite"
    settings = {"FLASKR_DATABASE": str(database)}
    if kind == "unreadable file":
        sqlite3.connect(database).close()
        database.chmod(0)
    elif kind == "read-only folder":
        folder.chmod(0o555)
    elif kind == "read-only folder holding the database":
        sqlite3.connect(database).close()
        database.chmod(0o600)
        folder.chmod(0o555)
    elif kind == "refused connection":
        with silent_server() as port:
            pass  # closed again: connections are refused
        settings["FLASKR_DATABASE_URL"] = f"postgresql+psycopg://flaskr@127.0.0.1:{port}/flaskr"
    return settings


@pytest.mark.parametrize("command", ["upgrade", "init-db", "serve"])
@pytest.mark.parametrize(
    "kind",
    [
        "unreadable file",
        "read-only folder",
        "read-only folder holding the database",
        "refused connection",
    ],
)
def test_commands_say_in_one_sentence_that_the_database_cannot_be_opened(command, kind, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
    env.update(_unusable_database(kind, tmp_path), FLASKR_SECRET_KEY="0123456789abcdef" * 3)
    args = [FLASKR, command] + (["--port", "1"] if command == "serve" else [])
    result = subprocess.run(
        args,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=without_root_file_powers,  # root would read and write anyway
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: Cannot use the database "), line
    assert line.endswith(".") and line.count(". ") == 0, line
    assert "flaskr is serving" not in result.stdout
