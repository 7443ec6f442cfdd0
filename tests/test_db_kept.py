"""A request's connection kept for the next request (flaskr/db/kept.py)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from dbstate import driver_in_transaction
from faults import end_backend

from flaskr.db import connection, engine, kept

COUNT_USERS = sa.text('SELECT count(*) FROM "user"')


def _kept(app) -> kept.Kept:
    return app.extensions["flaskr.kept"]


def _engine(app) -> sa.Engine:
    return app.extensions["flaskr.engine"]


def test_the_next_request_reuses_the_connection_without_the_pool(app, make_user, make_post):
    make_post(make_user("alice"), title="Kept")
    client = app.test_client()
    assert client.get("/").status_code == 200
    [first] = _kept(app).idle
    checkouts = []
    sa.event.listen(_engine(app).pool, "checkout", lambda *_: checkouts.append(1))
    for path in ("/", "/u/alice", "/hello", "/"):
        assert client.get(path).status_code == 200
    assert list(_kept(app).idle) == [first]
    assert checkouts == []


def test_a_kept_connection_holds_no_transaction_and_sees_later_writes(app, make_user, db_kind):
    make_user("alice")
    with app.test_request_context():
        assert connection().execute(COUNT_USERS).scalar() == 1
        first = connection()
        assert driver_in_transaction(first) == (db_kind == "sqlite")
    [idle] = _kept(app).idle
    assert idle is first
    assert not first.in_transaction()
    assert not driver_in_transaction(first)
    # Someone else writes between the two requests.
    with _engine(app).connect() as other:
        other.execute(sa.text("INSERT INTO \"user\" (username, password) VALUES ('bob', 'x')"))
        other.commit()
    with app.test_request_context():
        assert connection() is first
        assert connection().execute(COUNT_USERS).scalar() == 2


def test_a_connection_an_outage_invalidated_is_never_kept(app):
    with app.test_request_context():
        broken = connection()
        broken.execute(sa.text("SELECT 1"))
        broken.invalidate()
    assert not _kept(app).idle
    with app.test_request_context():
        assert connection() is not broken
        assert connection().execute(sa.text("SELECT 1")).scalar() == 1


def test_at_most_the_pools_size_is_kept_the_rest_go_back_to_the_pool(app):
    store = _kept(app)
    pool = _engine(app).pool
    assert store.limit == pool.size() == 5  # type: ignore[attr-defined]
    given = [_engine(app).connect() for _ in range(store.limit + 2)]
    for conn in given:
        store.give(conn)
    assert len(store.idle) == store.limit
    assert pool.checkedout() == store.limit  # type: ignore[attr-defined]
    assert given[-1].closed and given[-2].closed
    assert not any(conn.closed for conn in store.idle)


def test_only_requests_keep_their_connection(app):
    # A CLI command or a mail thread ends its app context: back to the pool.
    with app.app_context():
        connection().execute(sa.text("SELECT 1"))
    assert not _kept(app).idle
    assert _engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


def test_disposing_the_engine_gives_the_kept_connections_back_first(app):
    with app.test_request_context():
        connection().execute(sa.text("SELECT 1"))
    assert _kept(app).idle
    old_pool = _engine(app).pool
    with app.app_context():
        engine().dispose()
    assert not _kept(app).idle
    # Checked in before the old pool closed its connections: none left open.
    assert old_pool.checkedout() == 0  # type: ignore[attr-defined]
    assert old_pool.checkedin() == 0  # type: ignore[attr-defined]


def test_close_all_gives_back_the_kept_connections_of_every_app(app, make_app):
    other = make_app()
    for each in (app, other):
        with each.test_request_context():
            connection().execute(sa.text("SELECT 1"))
        assert _kept(each).idle
    kept.close_all()
    for each in (app, other):
        assert not _kept(each).idle
        assert _engine(each).pool.checkedout() == 0  # type: ignore[attr-defined]


def _terminate(app, conn: sa.Connection) -> None:
    """End conn's session from the server's side."""
    end_backend(app.config["DATABASE_URL"], conn.connection.driver_connection.info.backend_pid)


def test_a_kept_connection_the_server_ended_is_replaced_without_an_error(make_app, db_kind):
    if db_kind == "sqlite":
        return  # no server to end it
    app = make_app(PAGE_CACHE_SECONDS=0)  # every page view reads
    client = app.test_client()
    assert client.get("/").status_code == 200
    [ended] = _kept(app).idle
    _terminate(app, ended)
    # Checked as the pool checks its own: not one reader sees an error.
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert ended not in _kept(app).idle
    assert ended.closed


def test_a_kept_connection_notes_when_it_went_idle(app, db_kind):
    # Its idle time decides whether it is pinged before its next use (postgresql.py).
    if db_kind == "sqlite":
        return  # nothing to ping
    before = time.monotonic()
    assert app.test_client().get("/").status_code == 200
    [idle] = _kept(app).idle
    assert before <= idle.connection.info["checked_in"] <= time.monotonic()


def test_a_connection_whose_rollback_fails_is_dropped_not_kept(app, db_kind):
    if db_kind == "sqlite":
        return  # SQLite's rollback has no server to lose
    from flaskr.db import postgresql

    with app.test_request_context():
        conn = connection()
        postgresql.autocommit(conn, False)
        conn.execute(sa.text("SELECT 1"))  # a transaction the request leaves open
        _terminate(app, conn)
    assert not _kept(app).idle
    assert conn.closed
    with app.test_request_context():
        assert connection().execute(sa.text("SELECT 1")).scalar() == 1


@pytest.mark.parametrize("path", ["/", "/hello"])
def test_pages_leave_no_connection_checked_out_once_kept_ones_are_given_back(app, path):
    assert app.test_client().get(path).status_code == 200
    _kept(app).close()
    assert _engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]
