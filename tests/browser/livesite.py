"""A live `flaskr serve` on a free port with a database of its own, for browser tests."""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FLASKR = Path(sys.executable).with_name("flaskr")
STARTUP_SECONDS = 30
#: Screenshots: of failures, and the ones kept to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SEEDED_POSTS = 25  # front pages of 10, 10 and 5


@dataclass
class LiveServer:
    """A running `flaskr serve` and the environment it (and its CLI) runs with."""

    url: str
    env: dict[str, str]
    log: Path

    def cli(self, *args: str) -> str:
        """Run a `flaskr` command against this server's database; return its output."""
        result = subprocess.run(
            [str(FLASKR), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_schema(base_url: str) -> tuple[str, str]:
    """Create a fresh schema; return its name and a URL whose connections use it."""
    import sqlalchemy as sa

    schema = f"browser_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def _drop_schema(base_url: str, schema: str) -> None:
    """Remove a schema made by _postgres_schema, with everything in it."""
    import sqlalchemy as sa

    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _server_env(folder: Path, database_url: str | None) -> dict[str, str]:
    """Production settings, with a strong secret and this test's own database.

    Not measured by coverage (COVERAGE_* left out): under it the server and its CLI
    calls took 12% longer, and every path they run is measured in-process by the
    other tests; `flaskr serve` itself is measured in test_cli and test_serving.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASKR_", "COVERAGE_"))}
    env.update(
        FLASKR_SECRET_KEY=secrets.token_urlsafe(36),  # 48 characters
        # The SQLite file, and beside it the rate-limit counters, live in tmp
        # even on PostgreSQL, so nothing is written into the instance folder.
        FLASKR_DATABASE=str(folder / "flaskr.sqlite"),
        # Many sign-ins from one address within a minute; the limits themselves
        # are tested elsewhere. Everything else (CSRF, password policy) stays on.
        FLASKR_RATELIMIT_LOGIN="500 per minute",
        FLASKR_RATELIMIT_ACCOUNT="500 per hour",
        # Drafts save themselves every second, so a test need not wait 15.
        FLASKR_AUTOSAVE_SECONDS="1",
        # A comment form may be sent a second after it was shown, not three (the
        # rule itself is tested in test_comments.py).
        FLASKR_COMMENTS_MIN_SECONDS="1",
        # Guests' comments on (off by default): their pages are walked too.
        FLASKR_COMMENTS_GUESTS="true",
    )
    if database_url:
        env["FLASKR_DATABASE_URL"] = database_url
    return env


def _die_with_parent() -> None:
    """In the server process: get SIGTERM if pytest dies, so no server outlives a killed run."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    """Return once the server answers; fail with its log if it dies or hangs."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"flaskr serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "hello", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"flaskr serve did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and its workers: politely, then for sure."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_server(
    folder: Path, seed_posts: int = 0, settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Run `flaskr serve` (2 workers) on a free port with a new database until closed;
    `settings` adds FLASKR_* variables to its environment."""
    base_url = os.environ.get("FLASKR_TEST_DATABASE_URL")
    schema = None
    database_url = None
    if base_url:
        schema, database_url = _postgres_schema(base_url)
    port = _free_port()
    server = LiveServer(
        url=f"http://127.0.0.1:{port}/",
        env={**_server_env(folder, database_url), **(settings or {})},
        log=folder / "server.log",
    )
    try:
        if seed_posts:
            server.cli("demo-data", "--users", "3", "--posts", str(seed_posts), "--seed", "7")
        with server.log.open("w") as log:
            process = subprocess.Popen(
                [str(FLASKR), "serve", "--port", str(port), "--workers", "2"],
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            _wait_until_up(server.url, process, server.log)
            yield server
        finally:
            _stop(process)
    finally:
        if schema:
            _drop_schema(base_url, schema)
