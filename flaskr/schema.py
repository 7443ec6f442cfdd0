"""Schema versions: applying Alembic migrations, reading the version, clearing everything."""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext

from flaskr.db import engine, unbounded
from flaskr.db.outages import reports_outages

_MIGRATION_LOCK_ID = 0x666C6B72  # "flkr": PostgreSQL advisory lock for migrations
_migrate_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Apply pending migrations before the first request (AUTO_MIGRATE) and add `upgrade`."""
    app.extensions["flaskr.migrated"] = False
    if app.config["AUTO_MIGRATE"]:
        app.before_request(_migrate_once)
    app.cli.add_command(upgrade_command)


def alembic_config(conn: sa.Connection | None = None) -> Config:
    """Alembic's settings for flaskr's migrations, run on conn."""
    cfg = Config()
    cfg.set_main_option("script_location", "flaskr:migrations")
    cfg.attributes["connection"] = conn
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The schema version this code expects (read once per process: the migrations ship
    with the code, and reading them is most of a new app's first request)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    """The schema version the database is at (None when empty)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade_db() -> bool:
    """Apply pending migrations; True when anything was applied. Safe to run concurrently."""
    with engine().connect() as conn, unbounded(conn):
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Rebuilding a table (SQLite's way to change one) drops it, and with
            # foreign keys on that would cascade into every table referring to
            # it. The pragma is ignored inside a transaction: set it before.
            _driver(conn).execute("PRAGMA foreign_keys=OFF")
        conn.info["write"] = True
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                    )
                if current_revision(conn) == head_revision():
                    return False
                command.upgrade(alembic_config(conn), "head")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"a migration broke a foreign key: {tuple(broken)}")
            return True
        finally:
            # The pooled connection goes on to serve requests: it must not look
            # like it is inside a write transaction (transaction() would not commit).
            conn.info.pop("write", None)
            if sqlite:
                _driver(conn).execute("PRAGMA foreign_keys=ON")


def _driver(conn: sa.Connection) -> sa.engine.interfaces.DBAPIConnection:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return raw


def _migrate_once() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions["flaskr.migrated"]:
        return
    with _migrate_lock:
        if not app.extensions["flaskr.migrated"]:
            upgrade_db()
            app.extensions["flaskr.migrated"] = True
            # Done for good: later requests skip this hook (a new list, as a
            # request in flight may be iterating the old one).
            hooks = app.before_request_funcs[None]
            app.before_request_funcs[None] = [f for f in hooks if f is not _migrate_once]


def drop_everything(conn: sa.Connection) -> None:
    """Remove every table, trigger and function flaskr made (and Alembic's version table)."""
    if conn.dialect.name == "sqlite":
        # On the driver connection, outside any transaction: inside one, SQLite
        # ignores PRAGMA foreign_keys, and dropping a table would then cascade
        # deletes into tables whose triggers point at tables already gone.
        raw = _driver(conn)
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
            # Ids start again from 1 in a cleared database, as in a new one.
            if raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
                raw.execute("DELETE FROM sqlite_sequence")
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


def has_data() -> bool:
    """True when the database holds any user or post."""
    with engine().connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        for table in ("user", "post"):
            if table in names:
                query = sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)
                if conn.execute(query).first():
                    return True
    return False


@click.command("upgrade")
@with_appcontext
@reports_outages
def upgrade_command() -> None:
    """Apply pending schema migrations, keeping all data."""
    if upgrade_db():
        click.echo(f"Upgraded the database to version {head_revision()}.")
    else:
        click.echo(f"The database is up to date (version {head_revision()}).")


#: The tables FTS5 keeps a virtual table's index in: <name>_data, <name>_idx...
FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")


def comparison_options(metadata: sa.MetaData, dialect: str) -> dict[str, Any]:
    """Alembic's options for comparing metadata with what the migrations built on dialect.

    Tables marked info={"dialect": ...} exist on that database only; FTS5's
    shadow tables are the virtual table's business, not the schema's.
    """
    shadows = {
        f"{table.name}_{suffix}"
        for table in metadata.tables.values()
        if table.info.get("fts5")
        for suffix in FTS5_SHADOWS
    }

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return not (type_ == "table" and name in shadows)

    def include_object(obj: Any, _name: Any, type_: str, _reflected: bool, _other: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        if not isinstance(table, sa.Table):
            return True
        return table.info.get("dialect", dialect) == dialect

    return {
        "include_name": include_name,
        "include_object": include_object,
        "compare_type": True,
        "compare_server_default": (
            _different_sqlite_default if dialect == "sqlite" else _different_postgres_default
        ),
    }


def _different_sqlite_default(
    _context: Any, _column: Any, _table_column: Any, found: str | None, _d: Any, wanted: str | None
) -> bool | None:
    # SQLite gives defaults back as written, e.g. ('') for ''; Alembic's own
    # comparison trips over the empty string in parentheses.
    if found is None or wanted is None:
        return None

    def bare(text: str) -> str:
        text = text.strip()
        while text.startswith("(") and text.endswith(")"):
            text = text[1:-1].strip()
        return text.strip("'")

    return bare(found) != bare(wanted)


def _different_postgres_default(
    _context: Any, _column: Any, _table_column: Any, found: str | None, _d: Any, wanted: str | None
) -> bool | None:
    # Alembic compares PostgreSQL defaults by evaluating both in a SELECT: a
    # clock that moves between the two calls would always differ. Compare such
    # a default as text instead (PostgreSQL adds casts like ::text when storing it).
    if found is None or wanted is None or "clock_timestamp" not in wanted:
        return None

    def bare(text: str) -> str:
        return re.sub(r"::\w+|[()\s]", "", text).lower()

    return bare(found) != bare(wanted)
