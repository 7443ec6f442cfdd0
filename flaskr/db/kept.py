"""Connections kept open from one request to the next, SQLAlchemy's Connection and all.

Taking a Connection from the pool for each request and giving it back cost a
cold page view 6.5-12% of its time (bench/RESULTS.md): the Connection object,
the pool's checkout and checkin with their events, and the allocations that
come with them, for a page whose SQL is a few indexed reads. A request's
connection is instead made ready for the next request and kept, up to the
pool's size, for whichever request of the process comes next.

What a request leaves on its connection is taken off when it ends, as the pool
would on checkin: a transaction left open is rolled back, so the next request
reads the newest data and SQLite's WAL can be checkpointed. A connection that
failed (invalidated by an outage) or cannot be rolled back is closed, never
kept. On PostgreSQL, a kept connection is checked before each reuse as the pool
checks its own (postgresql.py, still_connected): a server that ended the
session is found before a reader meets it.

Only requests keep their connection (db.close_db decides): CLI commands,
migrations and threads give theirs back to the pool as before. Disposing the
engine gives the kept ones back first; close_all() does for every app of the
process (the test suite, after each test; and at exit).
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections import deque

import sqlalchemy as sa

from flaskr.db import postgresql

log = logging.getLogger(__name__)

#: Every Kept of this process, for close_all().
_everywhere: weakref.WeakSet[Kept] = weakref.WeakSet()
_everywhere_lock = threading.Lock()


class Kept:
    """The idle connections of one engine, ready for the next request."""

    def __init__(self, engine: sa.Engine) -> None:
        self.postgresql = engine.dialect.name == "postgresql"
        #: At most as many as the pool keeps idle itself: the rest go back to it.
        self.limit = max(1, engine.pool.size()) if hasattr(engine.pool, "size") else 1
        #: Last in, first out: the connection used last has the warmest caches.
        self.idle: deque[sa.Connection] = deque()
        # Disposing the engine closes the kept connections first. Not through
        # SQLAlchemy's engine_disposed event: any engine-level listener puts every
        # statement on the event-dispatching path (db/sqlite.py, do_begin).
        dispose = engine.dispose

        def close_then_dispose(close: bool = True) -> None:
            self.close()
            dispose(close)

        engine.dispose = close_then_dispose  # type: ignore[method-assign]
        with _everywhere_lock:
            _everywhere.add(self)

    def take(self) -> sa.Connection | None:
        """A kept connection still fit to use, or None (the caller connects anew)."""
        while True:
            try:
                conn = self.idle.pop()  # atomic: no lock needed between threads
            except IndexError:
                return None
            if not self.postgresql:
                return conn
            if postgresql.still_connected(conn):
                return conn
            _discard(conn, "the server closed it")

    def give(self, conn: sa.Connection) -> None:
        """Make conn ready for the next request and keep it; close it if it can't be."""
        if conn.closed or conn.invalidated:
            conn.close()
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        except sa.exc.SQLAlchemyError as error:
            _discard(conn, f"its rollback failed: {error.__class__.__name__}")
            return
        if self.postgresql:
            postgresql.note_idle(conn)
        if len(self.idle) >= self.limit:
            conn.close()  # back to the pool, which resets it as on any checkin
            return
        self.idle.append(conn)

    def close(self) -> None:
        """Give every kept connection back to the pool."""
        while True:
            try:
                conn = self.idle.pop()
            except IndexError:
                return
            conn.close()


def _discard(conn: sa.Connection, why: str) -> None:
    log.info("Dropping a kept database connection: %s.", why)
    try:
        conn.invalidate()
    finally:
        conn.close()


def close_all() -> None:
    """Give the kept connections of every app in this process back to their pools."""
    with _everywhere_lock:
        every = list(_everywhere)
    for kept in every:
        kept.close()


# A worker that exits closes its connections through the pool, not the garbage
# collector (which warns of every connection it finds checked out).
atexit.register(close_all)
