"""The database: the engine and its connections, transactions, get_db() and init-db."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import click
import psycopg
import sqlalchemy as sa
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from flaskr import filemodes
from flaskr.config import ConfigError
from flaskr.outages import reports_outages
from flaskr.watchdog import watchdog

#: One MetaData for every capability's tables.py; constraint names are stable
#: so migrations can refer to them on both databases.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: A PostgreSQL server that stops answering altogether gets this much longer
#: than statement_timeout (which it enforces itself, when it runs) before the
#: client cuts the connection.
CUT_GRACE_SECONDS = 2.0

SYNCHRONOUS = ("FULL", "NORMAL")


def utcnow() -> datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def database_url(app: Flask) -> str:
    """The SQLAlchemy URL this app uses: DATABASE_URL, else the SQLite DATABASE file."""
    return app.config["DATABASE_URL"] or f"sqlite:///{app.config['DATABASE']}"


def init_app(app: Flask) -> None:
    """Create the app's engine and register teardown and the init-db command."""
    app.extensions["flaskr.engine"] = _make_engine(database_url(app), app.config)
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)


def _make_engine(url: str, config: Any) -> sa.Engine:
    """An engine with the connection settings flaskr relies on for each database."""
    parsed = sa.make_url(url)
    statement_timeout = float(config["DATABASE_STATEMENT_TIMEOUT"])
    pool_timeout = float(config["DATABASE_POOL_TIMEOUT"])
    if parsed.get_backend_name() == "sqlite":
        synchronous = str(config["SQLITE_SYNCHRONOUS"]).upper()
        if synchronous not in SYNCHRONOUS:
            raise ConfigError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}.")
        if parsed.database and parsed.database != ":memory:":
            # Made now so the folder is there to look at; if it can't be, the
            # first connection says why (an error page or one CLI sentence).
            with contextlib.suppress(OSError):
                filemodes.private_folder(os.path.dirname(os.path.abspath(parsed.database)))
        # The busy timeout bounds how long a writer queues for the write lock.
        busy = statement_timeout or 1e6  # 0: no limit (about 11 days)
        engine = sa.create_engine(parsed, connect_args={"timeout": busy}, pool_timeout=pool_timeout)
        sa.event.listen(engine, "do_connect", _sqlite_prepare_file)
        sa.event.listen(engine, "connect", functools.partial(_sqlite_on_connect, synchronous))
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        sa.event.listen(engine, "checkout", _forget_write_flag)
        return engine
    connect_args: dict[str, Any] = {"cursor_factory": _BoundedCursor}
    if "connect_timeout" not in parsed.query:
        # libpq counts whole seconds, and at least 2.
        connect_args["connect_timeout"] = max(2, math.ceil(config["DATABASE_CONNECT_TIMEOUT"]))
    engine = sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
    )
    wait = statement_timeout + CUT_GRACE_SECONDS if statement_timeout else None
    sa.event.listen(engine, "do_connect", functools.partial(_postgres_connect, wait))
    sa.event.listen(
        engine, "connect", functools.partial(_postgres_on_connect, int(statement_timeout * 1000))
    )
    sa.event.listen(engine, "checkout", _forget_write_flag)
    return engine


def _sqlite_prepare_file(
    _dialect: Any, _record: Any, cargs: tuple[Any, ...], _cparams: dict[str, Any]
) -> None:
    # Created here, not by SQLite: the file (and the -wal and -shm files SQLite
    # gives the same mode) holds password hashes, so nobody else may read it.
    path = cargs[0] if cargs else None
    if not path or path == ":memory:" or str(path).startswith("file:"):
        return
    try:
        filemodes.private_folder(os.path.dirname(os.path.abspath(path)))
        filemodes.private_file(path)
        for suffix in ("-wal", "-shm"):
            filemodes.tighten(path + suffix)
    except OSError as error:
        failure = sqlite3.OperationalError(f"cannot create {path}: {error.strerror}")
        failure.sqlite_errorcode = sqlite3.SQLITE_CANTOPEN
        raise failure from error


def _sqlite_on_connect(synchronous: str, dbapi_connection: sqlite3.Connection, _: Any) -> None:
    # The driver's own transaction handling can't do BEGIN IMMEDIATE; take it over.
    dbapi_connection.isolation_level = None
    dbapi_connection.text_factory = _decode_text
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", f"synchronous={synchronous}"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _decode_text(data: bytes) -> str:
    # Plain SQL can store text that is not UTF-8 (char(55296) is a lone surrogate,
    # CAST(x'ff' AS TEXT) any bytes); the driver would fail the whole query on it.
    return data.decode("utf-8", "replace")


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # Writers take the write lock up front, so a reader never has to upgrade to
    # a writer mid-transaction (the cause of instant "database is locked").
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


def _forget_write_flag(_dbapi: Any, record: Any, _proxy: Any) -> None:
    # Connection.info lives as long as the pooled connection: a write flag left
    # by one user (a migration, a CLI command) must not leak into the next.
    record.info.pop("write", None)


class _BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection none of whose waits on the server outlasts wait_seconds."""

    wait_seconds: float | None = None

    def commit(self) -> None:
        _bounded(self, super().commit)

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
    wait: float | None, _dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]
) -> _BoundedConnection:
    conn = _BoundedConnection.connect(*cargs, **cparams)
    conn.wait_seconds = wait
    return conn


def _postgres_on_connect(statement_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Timestamps are stored naive in UTC; make server-side defaults agree.
    dbapi_connection.execute(f"SET TIME ZONE 'UTC'; SET statement_timeout = {statement_ms:d}")
    dbapi_connection.commit()


def engine() -> sa.Engine:
    """The current app's engine."""
    return current_app.extensions["flaskr.engine"]


def is_sqlite() -> bool:
    """True when the app runs on the embedded SQLite database."""
    return engine().dialect.name == "sqlite"


def connection() -> sa.Connection:
    """The Core connection of this request (or app context), opened on first use."""
    if "sa_conn" not in g:
        g.sa_conn = engine().connect()
    return g.sa_conn


@contextmanager
def transaction() -> Iterator[sa.Connection]:
    """Run the block as one write transaction; nested calls join the outer one."""
    conn = connection()
    if conn.info.get("write"):
        yield conn
        return
    if conn.in_transaction():
        # End the read snapshot: a write must start from the newest data.
        conn.rollback()
    conn.info["write"] = True
    try:
        with conn.begin():
            yield conn
    finally:
        conn.info.pop("write", None)


@contextmanager
def unbounded(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Let conn's statements run as long as they need (migrations, bulk loads)."""
    if conn.dialect.name != "postgresql":
        yield conn
        return
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


class _NamedRow(tuple):
    """A PostgreSQL row addressable by position and by column name, like sqlite3.Row."""

    positions: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self.positions[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.positions)


def _named_row_factory(cursor: Any) -> Any:
    positions = {col.name: i for i, col in enumerate(cursor.description or ())}

    def make(values: Any) -> _NamedRow:
        row = _NamedRow(values)
        row.positions = positions
        return row

    return make


def get_db() -> Any:
    """The DB-API connection of this app context, with rows addressable by column name.

    For scripts and the tutorial's tests; application code uses connection().
    The connection is closed (not pooled) when the app context ends.
    """
    if "db" not in g:
        raw = engine().raw_connection()
        raw.detach()
        dbapi = raw.dbapi_connection
        if is_sqlite():
            dbapi.row_factory = sqlite3.Row  # type: ignore[union-attr]
        else:
            dbapi.row_factory = _named_row_factory  # type: ignore[union-attr]
        g.db_fairy = raw
        g.db = dbapi
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Release this app context's connections."""
    conn = g.pop("sa_conn", None)
    if conn is not None:
        conn.close()
    g.pop("db", None)
    fairy = g.pop("db_fairy", None)
    if fairy is not None:
        fairy.close()


def init_db() -> None:
    """Clear the database and create the current schema."""
    from flaskr import schema  # schema builds on this module

    with engine().connect() as conn, unbounded(conn):
        schema.drop_everything(conn)
        if conn.in_transaction():
            conn.commit()
    schema.upgrade_db()


@click.command("init-db")
@click.option(
    "--force",
    is_flag=True,
    help="PostgreSQL only: clear a database that holds data (SQLite always backs up first).",
)
@with_appcontext
@reports_outages
def init_db_command(force: bool) -> None:
    """Clear the existing data and create new tables."""
    from flaskr import backup, schema

    if schema.has_data():
        if is_sqlite():
            copy = backup.backup_sqlite(engine(), current_app.config["DATABASE"])
            click.echo(f"The database holds data; a backup copy is at {copy}")
        elif not force:
            raise click.ClickException(
                "The PostgreSQL database holds data. Run `init-db --force` to delete "
                "it, or `upgrade` to keep it and apply migrations."
            )
    # Looked up when called, so the tutorial's test can replace flaskr.db.init_db.
    init_db()
    click.echo("Initialized the database.")
