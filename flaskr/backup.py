"""Online copies of the SQLite database, made before init-db clears it."""

from __future__ import annotations

import os
import sqlite3

import sqlalchemy as sa

from flaskr import filemodes
from flaskr.db import utcnow


def backup_sqlite(engine: sa.Engine, source: str) -> str:
    """Write an online copy of the SQLite database beside it (mode 0600); return its path."""
    target = _new_file(f"{source}.backup-{utcnow():%Y%m%d-%H%M%S}")
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(target) as copy:
            raw.dbapi_connection.backup(copy)  # type: ignore[union-attr]
        copy.close()
    except BaseException:
        os.unlink(target)
        raise
    finally:
        raw.close()
    return target


def _new_file(stem: str) -> str:
    """Create stem, or stem-2, stem-3... whichever does not exist yet, as an empty 0600 file."""
    for number in range(1, 1000):
        path = stem if number == 1 else f"{stem}-{number}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, filemodes.FILE_MODE)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(f"{stem}: too many backups with this name")
