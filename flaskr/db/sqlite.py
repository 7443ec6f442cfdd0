"""SQLite: the file, its pragmas and its transactions, as flaskr needs them."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from flaskr import filemodes
from flaskr.config import ConfigError

#: What SQLITE_SYNCHRONOUS may say: FULL loses no acknowledged write on power loss.
SYNCHRONOUS = ("FULL", "NORMAL")

#: Rows of the tutorial's get_db(), addressable by column name.
ROW_FACTORY = sqlite3.Row


def make_engine(url: sa.URL, config: Any) -> sa.Engine:
    """An engine on the SQLite file: private file modes, WAL, foreign keys, queued writers."""
    synchronous = str(config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in SYNCHRONOUS:
        raise ConfigError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}.")
    if url.database and url.database != ":memory:":
        # Made now so the folder is there to look at; if it can't be, the
        # first connection says why (an error page or one CLI sentence).
        with contextlib.suppress(OSError):
            filemodes.private_folder(os.path.dirname(os.path.abspath(url.database)))
    # The busy timeout bounds how long a writer queues for the write lock.
    busy = float(config["DATABASE_STATEMENT_TIMEOUT"]) or 1e6  # 0: no limit (about 11 days)
    engine = sa.create_engine(
        url, connect_args={"timeout": busy}, pool_timeout=float(config["DATABASE_POOL_TIMEOUT"])
    )
    sa.event.listen(engine, "do_connect", _sqlite_prepare_file)
    sa.event.listen(engine, "connect", functools.partial(_sqlite_on_connect, synchronous))
    # The dialect's own begin, not SQLAlchemy's "begin" event (its documented recipe):
    # one connection-level listener puts every connection of the engine on the
    # event-dispatching path, 7 microseconds a page view (bench/RESULTS.md).
    # Errors raised here reach the caller as SQLAlchemy's, as from any statement.
    engine.dialect.do_begin = _sqlite_begin  # type: ignore[method-assign]
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


def fetch_all(
    dbapi_connection: sqlite3.Connection, cursor: sqlite3.Cursor, sql: str, arguments: Any
) -> list[Any]:
    """The rows of a SELECT, its text decoded by the driver's C code.

    _decode_text is a Python call per text value: a tenth of the time of a list
    page's query. Rows with text that is not UTF-8 (the driver refuses the
    whole query) are read again, forgivingly (in the same transaction, when there is one).
    """
    dbapi_connection.text_factory = str
    try:
        return cursor.execute(sql, arguments).fetchall()
    except sqlite3.OperationalError as error:
        if not str(error).startswith("Could not decode to UTF-8"):
            raise
    finally:
        dbapi_connection.text_factory = _decode_text
    return cursor.execute(sql, arguments).fetchall()


def _sqlite_begin(dbapi_connection: Any) -> None:
    """Begin a transaction: IMMEDIATE for a writer, DEFERRED for a reader."""
    driver = dbapi_connection.driver_connection
    # Writers take the write lock up front, so a reader never has to upgrade to
    # a writer mid-transaction (the cause of instant "database is locked").
    # A deferred BEGIN touches no file and takes no lock. (The pooled connection's
    # info is its Connection's: transaction() sets "write" there.)
    driver.execute("BEGIN IMMEDIATE" if dbapi_connection.info.get("write") else "BEGIN")


#: Pages a bulk load may keep in memory (KiB): its indexes stay cached instead
#: of being read back from disk for every batch.
BULK_CACHE_KIB = 256 * 1024


@contextmanager
def large_cache(conn: sa.Connection) -> Iterator[None]:
    """Give conn a large page cache for a bulk load, then the default again."""
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB:d}")
    conn.commit()
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous or 0):d}")
        conn.commit()


def refresh_statistics(conn: sa.Connection, full_text: list[str]) -> None:
    """ANALYZE every table and index, let SQLite tune itself (PRAGMA optimize), and
    merge each full-text index in `full_text` into one segment.

    A bulk load leaves an FTS5 index in many segments (ten after 100,000 demo
    posts), and every search reads each one: merged, the statements of a search
    for a common word ran in 0.7 ms instead of 1.0-1.4 (bench/RESULTS.md).
    """
    conn.exec_driver_sql("ANALYZE")
    conn.exec_driver_sql("PRAGMA optimize")
    for table in full_text:
        # FTS5's own command: the table's name as a column, 'optimize' as its value.
        # The names are our schema's (metadata), never a user's.
        name = conn.dialect.identifier_preparer.quote(table)
        conn.exec_driver_sql(f"INSERT INTO {name}({name}) VALUES ('optimize')")  # noqa: S608  # nosec B608
    conn.commit()
