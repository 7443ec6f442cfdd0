"""The database: the engine and its connections, transactions, get_db() and init-db.

Only this package knows which driver is underneath: sqlite.py and
postgresql.py set each one up, outages.py reads their errors, watchdog.py
bounds waits on a PostgreSQL server that stops answering. kept.py keeps a
request's connection open for the next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from flaskr.contexts import in_request, this_app, this_g
from flaskr.db import kept, notified, postgresql, sqlite
from flaskr.db.outages import reports_outages

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


def utcnow() -> datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def database_url(app: Flask) -> str:
    """The SQLAlchemy URL this app uses: DATABASE_URL, else the SQLite DATABASE file."""
    return app.config["DATABASE_URL"] or f"sqlite:///{app.config['DATABASE']}"


def init_app(app: Flask) -> None:
    """Create the app's engine and register teardown and the init-db command."""
    made = app.extensions["flaskr.engine"] = _make_engine(database_url(app), app.config)
    app.extensions["flaskr.kept"] = kept.Kept(made)
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)


def _make_engine(url: str, config: Any) -> sa.Engine:
    """An engine with the connection settings flaskr relies on for each database."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sqlite.make_engine(parsed, config)
    else:
        engine = postgresql.make_engine(parsed, config, notified.committed)
    sa.event.listen(engine, "checkout", _forget_write_flag)
    return engine


def _forget_write_flag(_dbapi: Any, record: Any, _proxy: Any) -> None:
    # Connection.info lives as long as the pooled connection: a write flag left
    # by one user (a migration, a CLI command) must not leak into the next.
    record.info.pop("write", None)


def engine() -> sa.Engine:
    """The current app's engine."""
    return this_app().extensions["flaskr.engine"]


def is_sqlite() -> bool:
    """True when the app runs on the embedded SQLite database."""
    return engine().dialect.name == "sqlite"


def connection() -> sa.Connection:
    """The Core connection of this request (or app context), opened on first use."""
    state = this_g()  # several times a page: once, not per use
    found = state.get("sa_conn")
    if found is not None:
        return found
    extensions = this_app().extensions
    conn = extensions["flaskr.kept"].take() or extensions["flaskr.engine"].connect()
    if conn.dialect.name == "postgresql":
        # Reads need no transaction there: at READ COMMITTED each statement
        # takes its own snapshot anyway, and BEGIN and ROLLBACK would be two
        # more round trips per page. transaction() begins a real one to write.
        postgresql.autocommit(conn, True)
    state.sa_conn = conn
    if in_request():
        # A request's connection is kept for the next request (kept.py); a
        # command's or a thread's goes back to the pool.
        state.sa_keep = True
    return conn


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
    if conn.dialect.name == "postgresql":
        postgresql.autocommit(conn, False)
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
    with postgresql.unbounded(conn):
        yield conn


@contextmanager
def bulk_load(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Set conn up for loading many rows: no time limit, and on SQLite a large page cache."""
    with unbounded(conn):
        if conn.dialect.name != "sqlite":
            yield conn
            return
        with sqlite.large_cache(conn):
            yield conn


@contextmanager
def planned_for_its_values(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Plan the block's statements for their own values each time (PostgreSQL; SQLite
    always does). For statements whose best plan depends on the values, such as a
    full-text match."""
    if conn.dialect.name != "postgresql":
        yield conn
        return
    with postgresql.planned_for_its_values(conn):
        yield conn


def refresh_statistics() -> None:
    """After a bulk load, let the query planner see the new data (ANALYZE), and on
    SQLite merge the full-text indexes the load has split into many segments."""
    with engine().connect() as conn, unbounded(conn):
        if conn.dialect.name == "sqlite":
            fts5 = [table.name for table in metadata.tables.values() if table.info.get("fts5")]
            sqlite.refresh_statistics(conn, fts5)
        else:
            postgresql.refresh_statistics(conn)


def notified_value(channel: str, query: str) -> notified.NotifiedValue | None:
    """On PostgreSQL (unless DATABASE_LISTEN is off): query's value kept current by
    NOTIFY on channel, so reading it needs no round trip; else None."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept: dict[tuple[str, str], Any] = app.extensions.setdefault("flaskr.notified", {})
    key = (channel, query)
    if key not in kept:
        url = engine().url
        listen = url.get_backend_name() == "postgresql" and app.config["DATABASE_LISTEN"]
        kept[key] = notified.watch(url, channel, query, app.config) if listen else None
    return kept[key]


def get_db() -> Any:
    """The DB-API connection of this app context, with rows addressable by column name.

    For scripts and the tutorial's tests; application code uses connection().
    The connection is closed (not pooled) when the app context ends.
    """
    if "db" not in g:
        raw = engine().raw_connection()
        raw.detach()
        dbapi = raw.dbapi_connection
        driver = sqlite if is_sqlite() else postgresql
        dbapi.row_factory = driver.ROW_FACTORY  # type: ignore[union-attr]
        g.db_fairy = raw
        g.db = dbapi
    return g.db


def keep_connection() -> None:
    """Keep this app context's connection for the next request when the context ends,
    as a request's is: for an app context that serves a reader outside Flask's
    dispatch (pagecache.Hits)."""
    this_g().sa_keep = True


def close_db(_exc: BaseException | None = None) -> None:
    """Release this app context's connections: a request's is kept for the next one."""
    state = this_g()  # every request: once, not per use
    conn = state.pop("sa_conn", None)
    if conn is not None:
        if state.pop("sa_keep", False):
            this_app().extensions["flaskr.kept"].give(conn)
        else:
            conn.close()
    state.pop("db", None)
    fairy = state.pop("db_fairy", None)
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
