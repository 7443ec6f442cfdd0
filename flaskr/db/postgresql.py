"""PostgreSQL: timeouts on every wait for the server, enforced from both ends."""

from __future__ import annotations

import functools
import math
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import psycopg
import sqlalchemy as sa

from flaskr.db.watchdog import watchdog

#: A PostgreSQL server that stops answering altogether gets this much longer
#: than statement_timeout (which it enforces itself, when it runs) before the
#: client cuts the connection.
CUT_GRACE_SECONDS = 2.0


def make_engine(url: sa.URL, config: Any, on_commit: Callable[[], None]) -> sa.Engine:
    """An engine whose connects, statements and pool waits all end within their settings.

    on_commit is called after every commit on its connections (SQLAlchemy's and
    get_db()'s alike).
    """
    statement_timeout = float(config["DATABASE_STATEMENT_TIMEOUT"])
    connect_args: dict[str, Any] = {"cursor_factory": _BoundedCursor}
    if "connect_timeout" not in url.query:
        # libpq counts whole seconds, and at least 2.
        connect_args["connect_timeout"] = max(2, math.ceil(config["DATABASE_CONNECT_TIMEOUT"]))
    engine = sa.create_engine(
        url,
        # _still_connected checks a pooled connection without a round trip.
        pool_pre_ping=False,
        pool_size=5,
        max_overflow=10,
        pool_timeout=float(config["DATABASE_POOL_TIMEOUT"]),
        connect_args=connect_args,
    )
    wait = statement_timeout + CUT_GRACE_SECONDS if statement_timeout else None
    sa.event.listen(engine, "do_connect", functools.partial(_postgres_connect, wait, on_commit))
    sa.event.listen(engine, "checkout", _still_connected)
    sa.event.listen(engine, "checkin", _note_checkin)
    sa.event.listen(engine, "reset", _end_autocommit)
    sa.event.listen(
        engine, "connect", functools.partial(_postgres_on_connect, int(statement_timeout * 1000))
    )
    return engine


@contextmanager
def unbounded(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Let conn's statements run as long as they need (migrations, bulk loads)."""
    dbapi = conn.connection.dbapi_connection
    wait = getattr(dbapi, "wait_seconds", None)
    previous = conn.exec_driver_sql("SHOW statement_timeout").scalar()
    conn.exec_driver_sql("SET statement_timeout = 0")
    conn.commit()
    dbapi.wait_seconds = None  # type: ignore[union-attr]
    try:
        yield conn
    finally:
        dbapi.wait_seconds = wait  # type: ignore[union-attr]
        if not conn.invalidated and not conn.closed:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql("SELECT set_config('statement_timeout', %s, false)", (previous,))
            conn.commit()


@contextmanager
def planned_for_its_values(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Statements run in the block are planned for the values they are given, every time.

    psycopg prepares a statement run five times on one connection, and PostgreSQL
    then may switch to one generic plan for any values. For a full-text match that
    is a disaster: the generic plan cannot tell a rare word (use the index) from a
    word in every post (walk the newest posts), and took a search for a common
    word from 2 to 20 ms at 20,000 posts.
    """
    dbapi = conn.connection.driver_connection
    saved = dbapi.prepare_threshold  # type: ignore[union-attr]
    dbapi.prepare_threshold = None  # type: ignore[union-attr]
    try:
        yield conn
    finally:
        dbapi.prepare_threshold = saved  # type: ignore[union-attr]


def refresh_statistics(conn: sa.Connection) -> None:
    """VACUUM (ANALYZE) this schema's tables: planner statistics, and the visibility
    map that lets index-only scans skip the table (autovacuum would do both later,
    in the middle of whatever runs next)."""
    if conn.in_transaction():
        conn.commit()
    names = conn.exec_driver_sql(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
    ).scalars()
    tables = ", ".join(names)
    conn.commit()
    if not tables:
        return
    # VACUUM cannot run inside a transaction block.
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")


class NamedRow(tuple):
    """A row addressable by position and by column name, like sqlite3.Row."""

    positions: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self.positions[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.positions)


def ROW_FACTORY(cursor: Any) -> Any:  # noqa: N802 - the same name as sqlite.ROW_FACTORY
    """psycopg's row factory for the tutorial's get_db(): rows addressable by column name."""
    positions = {col.name: i for i, col in enumerate(cursor.description or ())}

    def make(values: Any) -> NamedRow:
        row = NamedRow(values)
        row.positions = positions
        return row

    return make


class _BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection none of whose waits on the server outlasts wait_seconds."""

    wait_seconds: float | None = None
    on_commit: Callable[[], None] | None = None

    def commit(self) -> None:
        _bounded(self, super().commit)
        if self.on_commit is not None:
            self.on_commit()

    def rollback(self) -> None:
        _bounded(self, super().rollback)


class _BoundedCursor(psycopg.Cursor[Any]):
    """A cursor whose statements wait on the server no longer than its connection allows."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return _bounded(self.connection, super().execute, *args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> None:
        _bounded(self.connection, super().executemany, *args, **kwargs)


P = ParamSpec("P")
R = TypeVar("R")


def _bounded(conn: Any, call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    seconds: float | None = getattr(conn, "wait_seconds", None)
    try:
        fileno = conn.fileno() if seconds is not None else -1
    except psycopg.Error:
        fileno = -1  # closed or broken: the call fails at once by itself
    if seconds is None or fileno < 0:
        return call(*args, **kwargs)
    key = id(conn)
    watchdog.arm(key, fileno, seconds)
    try:
        return call(*args, **kwargs)
    finally:
        watchdog.disarm(key)


def _postgres_connect(
    wait: float | None,
    on_commit: Callable[[], None],
    _dialect: Any,
    _record: Any,
    cargs: Any,
    cparams: dict[str, Any],
) -> _BoundedConnection:
    conn = _BoundedConnection.connect(*cargs, **cparams)
    conn.wait_seconds = wait
    conn.on_commit = on_commit
    return conn


#: A pooled connection idle longer than this is pinged before use: a firewall or
#: load balancer may have dropped it without a word, which no socket shows.
IDLE_PING_SECONDS = 30.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def autocommit(conn: sa.Connection, on: bool) -> None:
    """Let each statement of conn commit by itself (on), or run in transactions (off).

    Switched on the driver, not with SQLAlchemy's isolation_level option, which
    switches there and back through both libraries' machinery: 8.7 microseconds
    a page view against 2.4 (bench/RESULTS.md). Every connection goes back to
    the pool in transactions again (_end_autocommit), so whoever borrows it
    next (a migration, a CLI command) gets the transactions it asks for.
    """
    driver = conn.connection.driver_connection
    if driver.autocommit != on:  # type: ignore[union-attr]
        driver.autocommit = on  # type: ignore[union-attr]


#: Where a pooled connection's info keeps its cursor (kept_cursor).
KEPT_CURSOR = "flaskr.cursor"


def kept_cursor(conn: sa.Connection) -> Any:
    """A cursor on conn's connection, made once for the connection's life.

    psycopg builds each new cursor's adapters and transformer anew: 3.6
    microseconds a statement (bench/RESULTS.md). A cursor can run one statement
    after another; Prepared reads every row of each before the next.
    """
    driver = conn.connection.driver_connection
    info = conn.connection.info  # SQLAlchemy clears it when it reconnects
    cursor = info.get(KEPT_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not driver:
        cursor = info[KEPT_CURSOR] = driver.cursor()  # type: ignore[union-attr]
    return cursor


def _end_autocommit(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    # Called as the pool takes a connection back, before its rollback. If the
    # driver refuses (a broken connection), SQLAlchemy closes the connection
    # rather than pool it.
    if dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _still_connected(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed (the pool then connects afresh)."""
    if _server_closed(dbapi_connection, record.info):
        raise sa.exc.DisconnectionError("the server closed this connection")


def still_connected(conn: sa.Connection) -> bool:
    """Whether conn, kept idle between requests (db/kept.py), is still fit to use:
    the same check the pool makes of its own connections."""
    return not _server_closed(conn.connection.dbapi_connection, conn.connection.info)


def note_idle(conn: sa.Connection) -> None:
    """Note that conn goes idle now (its idle time decides whether it is pinged)."""
    conn.connection.info["checked_in"] = time.monotonic()


def _server_closed(dbapi_connection: Any, info: dict[str, Any]) -> bool:
    """Whether the server has closed this idle connection, asking it something only
    after idling.

    A ping (SELECT 1) on every checkout costs a round trip, a third of a cached
    page's time. An idle connection's socket has nothing to read unless the
    server ended the session (a restart, pg_terminate_backend, an idle timeout:
    its farewell message or EOF is waiting), so a socket that polls readable is
    dropped and the pool connects afresh. A connection idle for IDLE_PING_SECONDS
    is pinged as well, for what a poll cannot see (a middlebox that dropped it).
    """
    try:
        broken = dbapi_connection.closed or dbapi_connection.broken
        if not broken:
            # poll(), not select(): select() fails for descriptors past 1023.
            poller = select.poll()
            poller.register(dbapi_connection.fileno(), select.POLLIN)
            broken = bool(poller.poll(0))
        idle = time.monotonic() - info.get("checked_in", time.monotonic())
        if not broken and idle > IDLE_PING_SECONDS:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
    except (OSError, ValueError, psycopg.Error):
        broken = True
    return bool(broken)


def libpq_conninfo(url: sa.URL) -> str:
    """The URL as libpq's key=value connection string. Not the URL itself: libpq
    reads a `+` in a query value as a plus, where SQLAlchemy wrote a space
    (`options=-c a=1 -c b=2`), so the same URL would mean two things."""
    from psycopg.conninfo import make_conninfo

    args = url.translate_connect_args(username="user", database="dbname")
    query = {key: value for key, value in url.query.items() if isinstance(value, str)}
    return make_conninfo(**{key: str(value) for key, value in args.items()}, **query)


def listener_connection(conninfo: str, wait: float, config: Any) -> _BoundedConnection:
    """An autocommit connection for LISTEN, its connect and statements bounded like the pool's."""
    conn = _BoundedConnection.connect(
        conninfo,
        autocommit=True,
        cursor_factory=_BoundedCursor,
        connect_timeout=max(2, math.ceil(config["DATABASE_CONNECT_TIMEOUT"])),
        # Named, so an operator can tell it in pg_stat_activity.
        application_name="flaskr-listen",
    )
    conn.wait_seconds = wait
    return conn


def _postgres_on_connect(statement_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Timestamps are stored naive in UTC; make server-side defaults agree.
    dbapi_connection.execute(f"SET TIME ZONE 'UTC'; SET statement_timeout = {statement_ms:d}")
    dbapi_connection.commit()
