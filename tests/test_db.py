"""The data layer: get_db(), init-db and upgrade, connection settings, outages."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
import sqlalchemy as sa
from faults import end_backend

from flaskr import create_app
from flaskr.db import connection, engine, get_db, transaction
from flaskr.schema import current_revision, head_revision


def _head(app) -> str:
    with app.app_context():
        return head_revision()


def _count_users(app) -> int:
    with app.app_context():
        return connection().execute(sa.text('SELECT count(*) FROM "user"')).scalar()


def test_get_db_rows_are_addressable_by_column_name(app, make_user):
    make_user("alice")
    with app.app_context():
        row = get_db().execute('SELECT id, username FROM "user"').fetchone()
        assert row["username"] == "alice"
        assert row[1] == "alice"
        assert get_db() is get_db()


def test_get_db_is_closed_after_the_app_context(app, db_kind):
    with app.app_context():
        db = get_db()
    expected = sqlite3.ProgrammingError if db_kind == "sqlite" else Exception
    with pytest.raises(expected) as error:
        db.execute("SELECT 1")
    assert "closed" in str(error.value)


def test_init_db_on_an_empty_database_makes_no_backup(runner, tmp_path):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    assert "backup" not in result.output
    assert not list(tmp_path.glob("flaskr.sqlite.backup-*"))


def test_init_db_backs_up_sqlite_data_before_clearing(app, runner, make_user, db_kind, tmp_path):
    make_user("keepme")
    result = runner.invoke(args=["init-db"])
    if db_kind == "postgresql":
        # PostgreSQL has no file to copy: it refuses instead (next test).
        assert result.exit_code != 0
        return
    assert result.exit_code == 0, result.output
    (backup,) = tmp_path.glob("flaskr.sqlite.backup-*")
    assert f"a backup copy is at {backup}" in result.output
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    with sqlite3.connect(backup) as copy:
        assert copy.execute('SELECT username FROM "user"').fetchall() == [("keepme",)]
    copy.close()
    assert _count_users(app) == 0


def test_init_db_on_postgresql_refuses_to_clear_data_without_force(app, runner, make_user, db_kind):
    make_user("keepme")
    result = runner.invoke(args=["init-db"])
    if db_kind == "sqlite":
        assert result.exit_code == 0  # SQLite backs up instead (previous test)
        return
    assert result.exit_code == 1
    assert "--force" in result.output
    assert _count_users(app) == 1
    result = runner.invoke(args=["init-db", "--force"])
    assert result.exit_code == 0, result.output
    assert _count_users(app) == 0


def test_upgrade_is_idempotent_and_keeps_data(app, runner, make_user):
    make_user("keepme")
    for _ in range(2):
        result = runner.invoke(args=["upgrade"])
        assert result.exit_code == 0, result.output
        assert f"up to date (version {_head(app)})" in result.output
    assert _count_users(app) == 1


def test_upgrade_migrates_an_empty_database(make_app, empty_database):
    app = make_app(**empty_database)
    result = app.test_cli_runner().invoke(args=["upgrade"])
    assert f"Upgraded the database to version {_head(app)}" in result.output
    result = app.test_cli_runner().invoke(args=["upgrade"])
    assert "up to date" in result.output


def test_first_request_migrates_an_empty_database(make_app, empty_database):
    app = make_app(**empty_database)
    with app.app_context(), engine().connect() as conn:
        assert current_revision(conn) is None
    assert app.test_client().get("/").status_code == 200
    with app.app_context(), engine().connect() as conn:
        assert current_revision(conn) == _head(app)


def test_auto_migrate_can_be_turned_off(make_app, empty_database):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    assert app.test_client().get("/hello").status_code == 200
    with app.app_context(), engine().connect() as conn:
        assert current_revision(conn) is None


def test_connection_settings(app, db_kind):
    with app.app_context():
        conn = connection()
        if db_kind == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        else:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
            assert conn.exec_driver_sql("SELECT current_schema()").scalar().startswith("flaskr_t_")


def test_write_transactions_take_the_write_lock_up_front(app, db_kind, tmp_path, make_user):
    make_user("alice")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text('SELECT count(*) FROM "user"')).scalar()
        if db_kind == "sqlite":
            # BEGIN IMMEDIATE: a second writer is refused at once, before any write here.
            other = sqlite3.connect(app.config["DATABASE"], timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        else:
            assert conn.in_transaction()


def test_connections_dispatch_no_connection_events(app):
    # One connection-level listener (SQLAlchemy's "begin" event, say) puts every
    # connection of the engine on its event-dispatching path: several microseconds
    # on each page view. Transactions begin in the dialect instead (db/sqlite.py).
    with app.app_context():
        assert engine()._has_events is False
        with transaction() as conn:
            assert conn.in_transaction()


def test_reads_on_postgresql_open_no_transaction_and_writes_are_atomic(app, db_kind, make_user):
    make_user("alice")
    with app.app_context():
        conn = connection()
        conn.execute(sa.text('SELECT count(*) FROM "user"')).scalar()
        dbapi = conn.connection.dbapi_connection
        if db_kind == "postgresql":
            import psycopg

            # No BEGIN was sent for the read (nor will a ROLLBACK be): two round trips saved.
            assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pytest.raises(sa.exc.IntegrityError), transaction() as writing:
            writing.execute(sa.text("UPDATE \"user\" SET bio = 'changed'"))
            if db_kind == "postgresql":
                assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            writing.execute(sa.text("INSERT INTO \"user\" (id, username) VALUES (1, 'again')"))
    with app.app_context():
        # The failed write took its first statement with it.
        assert connection().execute(sa.text('SELECT bio FROM "user"')).scalar() != "changed"


@pytest.mark.parametrize("how", ["over the limit", "closed"])
def test_connections_pages_read_without_transactions_go_back_to_the_pool_with_them(
    app, make_user, how
):
    # Page views read in autocommit on PostgreSQL (db.connection()), and their
    # connection is kept for the next page view (db/kept.py). Whoever borrows it
    # from the pool later - a migration, a CLI command - still gets a transaction
    # that is all or nothing.
    make_user("alice")
    kept = app.extensions["flaskr.kept"]
    if how == "over the limit":
        kept.limit = 0
    assert app.test_client().get("/").status_code == 200
    kept.close()
    with app.app_context():
        held = [engine().connect() for _ in range(engine().pool.checkedin())]  # type: ignore[attr-defined]
        assert held
        for conn in held:
            with pytest.raises(RuntimeError), conn.begin():
                conn.execute(sa.text("UPDATE \"user\" SET bio = 'half done'"))
                raise RuntimeError("the rest of the change fails")
            conn.close()
    with app.app_context():
        half_done = sa.text("SELECT count(*) FROM \"user\" WHERE bio = 'half done'")
        assert connection().execute(half_done).scalar() == 0


def test_a_pooled_connection_the_server_ended_is_replaced_without_an_error(app, db_kind):
    client = app.test_client()
    assert client.get("/").status_code == 200
    if db_kind == "sqlite":
        return  # no server to end it
    with app.app_context():
        pid = connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    end_backend(app.config["DATABASE_URL"], pid)
    # The pool hands out only live connections: not one reader sees an error.
    for _ in range(3):
        assert client.get("/").status_code == 200


def test_foreign_keys_cascade_user_deletion_to_posts(app, make_user, make_post):
    user_id = make_user("alice")
    make_post(user_id)
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text('DELETE FROM "user" WHERE id = :id'), {"id": user_id})
    with app.app_context():
        assert connection().execute(sa.text("SELECT count(*) FROM post")).scalar() == 0


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/register", {"username": "a\x00b", "password": "x"}),
        ("/auth/login", {"username": "a", "password": "p\x00"}),
        ("/auth/register", {"username\x00": "a", "password": "x"}),
    ],
)
def test_nul_byte_in_a_form_is_a_400(client, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert b"not allowed" in response.data


@pytest.mark.parametrize("query", ["?page=1%00", "?q%00=1", "?x=%1b"])
def test_nul_byte_in_a_query_string_is_a_400(client, query):
    response = client.get("/" + query)
    assert response.status_code == 400


def test_nul_byte_in_a_post_form_is_a_400_and_stores_nothing(app, client, auth, make_user):
    make_user("writer", "a long enough pw")
    auth.login("writer", "a long enough pw")
    response = client.post("/create", data={"title": "x\x00", "body": "b"})
    assert response.status_code == 400
    with app.app_context():
        assert connection().execute(sa.text("SELECT count(*) FROM post")).scalar() == 0


# --- durability ------------------------------------------------------------------------


def test_acknowledged_writes_survive_a_power_loss_by_default(durable_settings, db_kind):
    # The settings a site has (the suite's own commits skip the disk sync).
    app = create_app(durable_settings)
    with app.app_context():
        if db_kind == "sqlite":
            # FULL in WAL mode: every commit is synced before it is acknowledged.
            assert connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2
        else:
            assert connection().exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    app.extensions["flaskr.engine"].dispose()


@pytest.mark.parametrize(("setting", "pragma"), [("FULL", 2), ("NORMAL", 1), ("normal", 1)])
def test_sqlite_synchronous_setting_is_the_pragma_in_effect(make_app, tmp_path, setting, pragma):
    own = str(tmp_path / "own.sqlite")
    app = make_app(DATABASE=own, DATABASE_URL=None, SQLITE_SYNCHRONOUS=setting)
    with app.app_context():
        # Every pooled connection, not only the first.
        conns = [engine().connect() for _ in range(3)]
        assert [c.exec_driver_sql("PRAGMA synchronous").scalar() for c in conns] == [pragma] * 3
        for conn in conns:
            conn.close()


def test_unknown_sqlite_synchronous_setting_is_refused(make_app):
    from flaskr.config import ConfigError

    with pytest.raises(ConfigError, match="SQLITE_SYNCHRONOUS must be one of FULL, NORMAL"):
        make_app(SQLITE_SYNCHRONOUS="OFF", DATABASE_URL=None)


def test_the_migration_check_leaves_the_request_path_once_done(make_app, empty_database):
    from flaskr.schema import _migrate_once

    app = make_app(**empty_database)
    assert _migrate_once in app.before_request_funcs[None]
    client = app.test_client()
    assert client.get("/hello").status_code == 200
    assert _migrate_once not in app.before_request_funcs[None]
    # The other hooks stay, in their order.
    assert client.get("/?q=%00").status_code == 400
    with app.app_context(), engine().connect() as conn:
        assert current_revision(conn) == _head(app)


class _FakeConnection:
    """A psycopg connection as _still_connected sees it, over a real socket."""

    closed = False
    broken = False

    def __init__(self, sock, fails: bool = False) -> None:
        self.sock, self.fails, self.pinged = sock, fails, 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def execute(self, sql: str) -> None:
        import psycopg

        self.pinged += 1
        if self.fails:
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    def rollback(self) -> None:
        pass


class _Record:
    def __init__(self, checked_in: float) -> None:
        self.info = {"checked_in": checked_in}


def test_a_pooled_connection_is_checked_without_a_round_trip_until_it_idled():
    import socket
    import time

    from flaskr.db import postgresql

    ours, server = socket.socketpair()
    try:
        fresh = _FakeConnection(ours)
        postgresql._still_connected(fresh, _Record(time.monotonic()), None)
        assert fresh.pinged == 0  # a recent, quiet connection: no ping
        idle = time.monotonic() - postgresql.IDLE_PING_SECONDS - 1
        postgresql._still_connected(fresh, _Record(idle), None)
        assert fresh.pinged == 1  # idle: pinged, and it answered
        with pytest.raises(sa.exc.DisconnectionError):
            postgresql._still_connected(_FakeConnection(ours, fails=True), _Record(idle), None)
        server.sendall(b"E")  # the server's farewell waiting on the socket
        with pytest.raises(sa.exc.DisconnectionError):
            postgresql._still_connected(_FakeConnection(ours), _Record(time.monotonic()), None)
    finally:
        ours.close()
        server.close()


def test_a_connection_on_a_descriptor_past_1023_is_checked_too():
    import os
    import resource
    import socket
    import time

    from flaskr.db import postgresql

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2100:
        pytest.fail("this test needs a descriptor limit of at least 2100")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2100), hard))
    ours, server = socket.socketpair()
    high = os.dup2(ours.fileno(), 2000)
    try:
        quiet = socket.socket(fileno=high)
        # select() raises ValueError for it: every checkout would have failed.
        postgresql._still_connected(_FakeConnection(quiet), _Record(time.monotonic()), None)
        quiet.detach()
    finally:
        os.close(high)
        ours.close()
        server.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
