"""The database: engine and per-request connections, transactions, get_db(), migrations."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app, g
from flask.cli import with_appcontext

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

#: Errors meaning "the database cannot be reached right now" (answered with 503).
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)

_MIGRATION_LOCK_ID = 0x666C6B72  # "flkr": PostgreSQL advisory lock for migrations
_migrate_lock = threading.Lock()


def utcnow() -> datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def database_url(app: Flask) -> str:
    """The SQLAlchemy URL this app uses: DATABASE_URL, else the SQLite DATABASE file."""
    return app.config["DATABASE_URL"] or f"sqlite:///{app.config['DATABASE']}"


def init_app(app: Flask) -> None:
    """Create the app's engine and register teardown, auto-migration and CLI commands."""
    app.extensions["flaskr.engine"] = _make_engine(database_url(app))
    app.extensions["flaskr.migrated"] = False
    app.teardown_appcontext(close_db)
    if app.config["AUTO_MIGRATE"]:
        app.before_request(_migrate_once)
    app.cli.add_command(init_db_command)
    app.cli.add_command(upgrade_command)


def _make_engine(url: str) -> sa.Engine:
    """An engine with the connection settings flaskr relies on for each database."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 15})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        sa.event.listen(engine, "checkout", _forget_write_flag)
        return engine
    engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    sa.event.listen(engine, "connect", _postgres_on_connect)
    sa.event.listen(engine, "checkout", _forget_write_flag)
    return engine


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # The driver's own transaction handling can't do BEGIN IMMEDIATE; take it over.
    dbapi_connection.isolation_level = None
    dbapi_connection.text_factory = _decode_text
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "busy_timeout=15000",
        "synchronous=NORMAL",
    ):
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


def _postgres_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Timestamps are stored naive in UTC; make server-side defaults agree.
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
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


class _NamedRow(tuple):
    """A PostgreSQL row addressable by position and by column name, like sqlite3.Row."""

    index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            key = self.index[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.index)


def _named_row_factory(cursor: Any) -> Any:
    index = {col.name: i for i, col in enumerate(cursor.description or ())}

    def make(values: Any) -> _NamedRow:
        row = _NamedRow(values)
        row.index = index
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
            dbapi.row_factory = sqlite3.Row
        else:
            dbapi.row_factory = _named_row_factory
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


# --- schema management -------------------------------------------------------


def _alembic_config(conn: sa.Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "flaskr:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def current_revision(conn: sa.Connection) -> str | None:
    """The schema version the database is at (None when empty)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def upgrade_db() -> bool:
    """Apply pending migrations; True when anything was applied. Safe to run concurrently."""
    from alembic import command

    with engine().connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                    )
                if current_revision(conn) == _head_revision():
                    return False
                command.upgrade(_alembic_config(conn), "head")
            return True
        finally:
            # The pooled connection goes on to serve requests: it must not look
            # like it is inside a write transaction (transaction() would not commit).
            conn.info.pop("write", None)


def _migrate_once() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions["flaskr.migrated"]:
        return
    with _migrate_lock:
        if not app.extensions["flaskr.migrated"]:
            upgrade_db()
            app.extensions["flaskr.migrated"] = True


def _drop_everything(conn: sa.Connection) -> None:
    """Remove every table, trigger and function flaskr made (and Alembic's version table)."""
    if conn.dialect.name == "sqlite":
        # On the driver connection, outside any transaction: inside one, SQLite
        # ignores PRAGMA foreign_keys, and dropping a table would then cascade
        # deletes into tables whose triggers point at tables already gone.
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            for kind in ("trigger", "view"):
                query = f"SELECT name FROM sqlite_master WHERE type = '{kind}'"  # noqa: S608  # nosec B608 - constant
                for (name,) in raw.execute(query).fetchall():
                    raw.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
            names = raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY sql LIKE 'CREATE VIRTUAL%' DESC"
            ).fetchall()
            for (name,) in names:
                # Dropping a virtual table drops its shadow tables; skip those that went with it.
                raw.execute(f'DROP TABLE IF EXISTS "{name}"')
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
        return
    with conn.begin():
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for name in list(tables):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        functions = conn.execute(
            sa.text(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema() AND p.proname LIKE 'flaskr_%'"
            )
        ).scalars()
        for name in list(functions):
            conn.exec_driver_sql(f'DROP FUNCTION IF EXISTS "{name}" CASCADE')


def init_db() -> None:
    """Clear the database and create the current schema."""
    with engine().connect() as conn:
        _drop_everything(conn)
        if conn.in_transaction():
            conn.commit()
    upgrade_db()


def has_data() -> bool:
    """True when the database holds any user or post."""
    inspector = sa.inspect(engine())
    names = set(inspector.get_table_names())
    with engine().connect() as conn:
        for table in ("user", "post"):
            if table in names:
                query = sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)
                if conn.execute(query).first():
                    return True
    return False


def backup_sqlite() -> str:
    """Write an online copy of the SQLite database beside it; return its path."""
    source = current_app.config["DATABASE"]
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    target = f"{source}.backup-{stamp}"
    raw = engine().raw_connection()
    try:
        with sqlite3.connect(target) as copy:
            raw.dbapi_connection.backup(copy)  # type: ignore[union-attr]
        copy.close()
    finally:
        raw.close()
    os.chmod(target, 0o600)
    return target


@click.command("init-db")
@click.option(
    "--force",
    is_flag=True,
    help="PostgreSQL only: clear a database that holds data (SQLite always backs up first).",
)
@with_appcontext
def init_db_command(force: bool) -> None:
    """Clear the existing data and create new tables."""
    if has_data():
        if is_sqlite():
            click.echo(f"The database holds data; a backup copy is at {backup_sqlite()}")
        elif not force:
            raise click.ClickException(
                "The PostgreSQL database holds data. Run `init-db --force` to delete "
                "it, or `upgrade` to keep it and apply migrations."
            )
    init_db()
    click.echo("Initialized the database.")


@click.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Apply pending schema migrations, keeping all data."""
    if upgrade_db():
        click.echo(f"Upgraded the database to version {_head_revision()}.")
    else:
        click.echo(f"The database is up to date (version {_head_revision()}).")
