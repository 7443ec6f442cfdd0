"""Where the counters live: a SQLite file every worker of one server shares, or Redis."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import urlsplit

from limits.storage import Storage

from flaskr import filemodes

# Flask-Limiter's own storages are in-process ("memory://") or need a server.
# Several gunicorn workers on one machine share this SQLite file instead, so a
# limit of 10 logins a minute is 10 for the whole deployment, not 10 per worker.


#: Every this many counts (per process), expired counters of all keys are removed.
PURGE_EVERY = 256


class SQLiteStorage(Storage):
    """Fixed-window counters in a small SQLite file: `flaskr+sqlite:///path/to/file`."""

    STORAGE_SCHEME = ["flaskr+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = urlsplit(uri or "").path or ":memory:"
        self._local = threading.local()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _connect(self) -> sqlite3.Connection:
        # Opened on first use, not when the app is built: a command that never
        # counts a hit must not fail (or create files) because of this one.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path != ":memory:":
                # Counters are keyed by IP address and typed username: private.
                filemodes.private_folder(os.path.dirname(self.path) or ".")
                filemodes.private_file(self.path)
                for suffix in ("-wal", "-shm"):
                    filemodes.tighten(self.path + suffix)
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hits ("
                "key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            self._local.conn = conn
        return conn

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count a hit in the key's current window; return the window's total."""
        now = time.time()
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        self._increments += 1
        try:
            if self._increments % PURGE_EVERY == 0:
                # Keys are per address and per typed username: without a sweep,
                # a stream of made-up names would grow the file without end.
                conn.execute("DELETE FROM hits WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM hits WHERE key = ? AND expires <= ?", (key, now))
            conn.execute(
                "INSERT INTO hits (key, count, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET count = count + excluded.count",
                (key, amount, now + expiry),
            )
            (count,) = conn.execute("SELECT count FROM hits WHERE key = ?", (key,)).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def get(self, key: str) -> int:
        row = (
            self._connect()
            .execute("SELECT count FROM hits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connect()
            .execute("SELECT expires FROM hits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._connect().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connect().execute("DELETE FROM hits")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connect().execute("DELETE FROM hits WHERE key = ?", (key,))


def storage_uri(database_file: str, redis_url: str | None) -> str:
    """Where the limiter keeps its counters: Redis when configured, else a file beside the DB."""
    if redis_url:
        return redis_url
    folder = os.path.dirname(os.path.abspath(database_file))
    return "flaskr+sqlite://" + os.path.join(folder, "ratelimit.sqlite")
