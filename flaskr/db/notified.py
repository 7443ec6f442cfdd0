"""Values PostgreSQL tells each process about, so a page needs no query to learn them.

A cache hit must know the content version, and on PostgreSQL asking for it
costs a checkout ping, BEGIN, the SELECT and a ROLLBACK: five round trips, ten
times the rest of a hit. Instead one thread per process LISTENs on a channel
that the database NOTIFYs on every change (the triggers that bump the value do
it), reads the value again after each notification, and reads it anyway once a
second as a heartbeat. A page uses the value only while it is certainly
current:

- the last read started after the last notification arrived and after the last
  commit this process made (a notification is delivered after its commit, a
  little later; this process's own writes must show at once);
- the last read is less than STALE_SECONDS old (a listener that stopped
  hearing, a dropped or frozen connection, stops vouching by itself).

Otherwise get() says "unknown" and the caller asks the database as before, so
the worst a broken listener costs is the old speed. Across processes and
servers, a page can be served from a version that is older by the time a
notification takes to arrive (well under a millisecond on a LAN): the same as
a request that started an instant before the write committed.

Connection poolers in transaction mode (PgBouncer) do not pass LISTEN on:
there, set DATABASE_LISTEN = False.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import sqlalchemy as sa

from flaskr.db import postgresql

#: How long the listener waits for a notification before reading anyway.
HEARTBEAT_SECONDS = 1.0
#: A value read longer ago than this is not vouched for (three missed heartbeats).
STALE_SECONDS = 3.0
#: Pause before connecting again after the listener's connection failed.
RETRY_SECONDS = 1.0
#: A listener nobody asked for this long stops (an app that is gone); get() starts it again.
IDLE_SECONDS = 60.0

log = logging.getLogger(__name__)

#: Every watch in this process, for committed(); keyed by (address, channel, query).
_watches: dict[tuple[str, str, str], NotifiedValue] = {}
_watches_lock = threading.Lock()
_NEVER = (float("-inf"), None)
_SETTINGS = ("DATABASE_CONNECT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT")


class NotifiedValue:
    """One value kept current by NOTIFY: a one-row query's column, or its columns as a
    tuple when it selects several."""

    def __init__(self, conninfo: str, channel: str, query: str, config: Any) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.query = query
        #: The connection settings of the app that asked first.
        self.config = {name: config[name] for name in _SETTINGS}
        #: (monotonic time the last good read started, the value it read).
        self.read: tuple[float, Any] = _NEVER
        #: Monotonic time of the last event after which the value may have moved.
        self.moved_at = float("-inf")
        #: Monotonic time of the last get(): a listener nobody asks stops.
        self.asked_at = float("-inf")
        #: The process whose listener thread runs (None: none runs).
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[bool, Any]:
        """(True, value) if the value is certainly current, else (False, None): ask the database."""
        self.asked_at = time.monotonic()
        if self._pid != os.getpid():
            self._start()
        started, value = self.read
        if started > self.moved_at and time.monotonic() - started < STALE_SECONDS:
            return True, value
        return False, None

    def moved(self) -> None:
        """The value may have changed: don't vouch for it until the next read."""
        self.moved_at = time.monotonic()

    def _start(self) -> None:
        # Lazily, and again in each forked worker: a thread does not survive fork().
        with self._lock:
            if self._pid == os.getpid():
                return
            self.read = _NEVER
            thread = threading.Thread(
                target=_listen, args=(self,), name=f"flaskr-listen-{self.channel}", daemon=True
            )
            thread.start()
            self._pid = os.getpid()

    def read_from(self, conn: Any) -> None:
        """Read the value on conn, noting when the read started."""
        started = time.monotonic()
        row = conn.execute(self.query).fetchone()
        value = None if row is None else row[0] if len(row) == 1 else tuple(row)
        self.read = (started, value)


def _listen(watch: NotifiedValue) -> None:
    """The listener thread: connect, LISTEN, read on every notification and heartbeat."""
    while not _idle(watch):
        try:
            _hear(watch)
        except Exception as error:  # noqa: BLE001 - any failure: stop vouching, try again
            log.debug("listener on %s stopped: %s", watch.channel, error)
        watch.read = _NEVER
        time.sleep(RETRY_SECONDS)
    with watch._lock:  # noqa: SLF001 - the thread's own watch
        watch.read = _NEVER
        watch._pid = None  # noqa: SLF001


def _idle(watch: NotifiedValue) -> bool:
    return time.monotonic() - watch.asked_at > IDLE_SECONDS


def _hear(watch: NotifiedValue) -> None:
    wait = float(watch.config["DATABASE_STATEMENT_TIMEOUT"]) + postgresql.CUT_GRACE_SECONDS
    conn = postgresql.listener_connection(watch.conninfo, wait, watch.config)
    with conn:
        conn.execute(f'LISTEN "{watch.channel}"')
        watch.read_from(conn)
        while not _idle(watch):
            for _notice in conn.notifies(timeout=HEARTBEAT_SECONDS, stop_after=1):
                watch.moved()
            watch.read_from(conn)


def watch(url: sa.URL, channel: str, query: str, config: Any) -> NotifiedValue:
    """The process's watch of query's value on channel at url (one thread however many apps)."""
    conninfo = postgresql.libpq_conninfo(url)
    key = (conninfo, channel, query)
    with _watches_lock:
        found = _watches.get(key)
        if found is None:
            found = _watches[key] = NotifiedValue(conninfo, channel, query, config)
        return found


def committed() -> None:
    """This process committed a transaction: no watched value is vouched for until read again."""
    for found in list(_watches.values()):
        found.moved()
