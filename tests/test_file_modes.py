"""Files flaskr writes are its user's alone (0600, folders 0700), whatever the umask."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from datetime import datetime

import pytest

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

PW = "a long enough pw"


@pytest.fixture(autouse=True)
def permissive_umask():
    """The common default umask, under which new files are world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_database_its_wal_and_its_folder_are_private(make_app, tmp_path):
    folder = tmp_path / "new" / "data"
    app = make_app(DATABASE=str(folder / "flaskr.sqlite"), DATABASE_URL=None)
    client = app.test_client()
    client.post("/auth/register", data={"username": "alice", "password": PW})
    assert client.get("/").status_code == 200
    assert _mode(folder) == 0o700
    for name in ("flaskr.sqlite", "flaskr.sqlite-wal", "flaskr.sqlite-shm"):
        assert _mode(folder / name) == 0o600, name


def test_rate_limit_database_is_private(make_app, tmp_path):
    app = make_app(RATELIMIT_ENABLED=True)
    app.test_client().post("/auth/login", data={"username": "a", "password": "b"})
    folder = os.path.dirname(app.config["DATABASE"])
    files = [n for n in os.listdir(folder) if n.startswith("ratelimit.sqlite")]
    assert "ratelimit.sqlite" in files
    for name in files:
        assert _mode(os.path.join(folder, name)) == 0o600, name


def test_instance_folder_and_generated_secret_key_are_private(make_app, instance_path):
    make_app(TESTING=False, SECRET_KEY=None)
    assert _mode(instance_path) == 0o700
    assert _mode(instance_path / "secret_key") == 0o600


def test_files_made_earlier_with_a_looser_mode_are_tightened_with_a_warning(
    make_app, tmp_path, caplog
):
    database = tmp_path / "old.sqlite"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    database.chmod(0o644)
    app = make_app(DATABASE=str(database), DATABASE_URL=None)
    with caplog.at_level(logging.WARNING, logger="flaskr.filemodes"):
        app.test_client().get("/")
    assert _mode(database) == 0o600
    assert any("mode changed from 644 to 600" in r.getMessage() for r in caplog.records)


# --- init-db backups --------------------------------------------------------------


@pytest.fixture
def sqlite_app(make_app, tmp_path):
    """An app on its own migrated SQLite file (backups are SQLite's)."""
    from flaskr.schema import upgrade_db

    app = make_app(DATABASE=str(tmp_path / "blog.sqlite"), DATABASE_URL=None)
    with app.app_context():
        upgrade_db()
    return app


def _fill(app) -> None:
    from flaskr.auth.services import register_user

    with app.app_context():
        register_user(f"user{os.urandom(4).hex()}", PW)


def test_backups_made_within_one_second_never_collide(sqlite_app, tmp_path, monkeypatch):
    from flaskr import backup

    monkeypatch.setattr(backup, "utcnow", lambda: datetime(2026, 11, 25, 10, 0, 0))
    runner = sqlite_app.test_cli_runner()
    outputs = []
    for _ in range(3):
        _fill(sqlite_app)
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    backups = sorted(tmp_path.glob("blog.sqlite.backup-*"))
    assert [b.name for b in backups] == [
        "blog.sqlite.backup-20261125-100000",
        "blog.sqlite.backup-20261125-100000-2",
        "blog.sqlite.backup-20261125-100000-3",
    ]
    for path, output in zip(backups, outputs, strict=True):
        assert f"a backup copy is at {path}" in output
        assert _mode(path) == 0o600
        with sqlite3.connect(path) as copy:
            assert copy.execute('SELECT count(*) FROM "user"').fetchone() == (1,)
        copy.close()


def test_backup_never_overwrites_an_existing_file(sqlite_app, tmp_path, monkeypatch):
    from flaskr import backup

    monkeypatch.setattr(backup, "utcnow", lambda: datetime(2026, 11, 25, 10, 0, 0))
    taken = tmp_path / "blog.sqlite.backup-20261125-100000"
    taken.write_text("someone else's file")
    _fill(sqlite_app)
    result = sqlite_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert taken.read_text() == "someone else's file"
    assert "blog.sqlite.backup-20261125-100000-2" in result.output
