"""What a database error means: the database can't be used right now (503), or a bug (500).

The data layer's second half: db.py opens connections, this module reads the
drivers' error codes, so that nothing above them has to.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import psycopg
import sqlalchemy as sa
from flask import current_app

#: Errors that may mean "the database can't be used right now"; is_outage() decides.
ERRORS: tuple[type[Exception], ...] = (sa.exc.DBAPIError, sa.exc.TimeoutError)

# SQLite result codes (the low byte of an extended code) that say the file
# can't be used right now, as opposed to a statement that is wrong.
_SQLITE_OUTAGES = {
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_NOLFS,
    sqlite3.SQLITE_NOTADB,
}
# PostgreSQL SQLSTATE classes of the same kind: connection exception, out of
# resources (disk, memory, connections), operator intervention (shutdown,
# statement timeout), system error.
_POSTGRES_OUTAGES = ("08", "53", "57", "58")

P = ParamSpec("P")
R = TypeVar("R")


def is_outage(error: BaseException) -> bool:
    """True when error means the database can't be used right now, not that a query is wrong."""
    if isinstance(error, sa.exc.TimeoutError | sa.exc.DisconnectionError):
        return True  # no pooled connection came free in time
    cause: BaseException | None = error
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_OUTAGES
    if isinstance(cause, psycopg.Error):
        if cause.sqlstate is None:
            # Raised by the client: the connection failed, was lost or timed out.
            return isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)
        return cause.sqlstate[:2] in _POSTGRES_OUTAGES
    return False


def is_missing_table(error: BaseException) -> bool:
    """True when error says a table is not there: a database flaskr never set up (or an
    older schema than this code), not a bug in a query."""
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).startswith("no such table")
    return isinstance(cause, psycopg.Error) and cause.sqlstate == "42P01"  # undefined_table


def _where() -> str:
    config = current_app.config
    if config["DATABASE_URL"]:
        return sa.make_url(config["DATABASE_URL"]).render_as_string(hide_password=True)
    return str(config["DATABASE"])


def describe_outage(error: BaseException) -> str:
    """One sentence saying which database of the current app could not be used, and why."""
    reason = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    lines = str(reason).strip().splitlines() or [type(reason).__name__]
    return f"Cannot use the database {_where()}: {lines[0].rstrip('.')}."


def reports_outages(command: Callable[P, R]) -> Callable[P, R]:
    """Make a CLI command print one sentence, not a traceback, when the database is
    unusable or has no flaskr tables yet."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ERRORS as error:
            if is_missing_table(error):
                raise click.ClickException(
                    f"The database {_where()} has no flaskr tables yet (or older ones):"
                    " run `flaskr upgrade` first."
                ) from None
            if not is_outage(error):
                raise
            raise click.ClickException(describe_outage(error)) from None

    return run
