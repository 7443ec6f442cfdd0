"""Fresh benchmark databases, and starting and stopping the servers under test."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from measure import free_port, wait_until_up

BIN = Path(sys.executable).parent  # the venv running this script holds flaskr, gunicorn, granian


def snapshot(ref: str, folder: Path) -> tuple[Path, str]:
    """Export a git ref of this repository into folder (to benchmark it while others edit)."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", ref], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder, commit


def bench_env(
    database: Path,
    source: Path | None = None,
    settings: Sequence[str] = (),
    database_url: str | None = None,
) -> dict[str, str]:
    """The environment every command runs in: our DB and key, and only the FLASKR_*
    settings given as NAME=VALUE (none inherited from the caller's shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
    env.update(setting_env(settings))
    if source:
        # Ahead of the editable install's path entry, so this copy of flaskr is imported.
        env["PYTHONPATH"] = str(source)
    # On PostgreSQL this file still holds the rate limiter's counters.
    env["FLASKR_DATABASE"] = str(database)
    if database_url:
        env["FLASKR_DATABASE_URL"] = database_url
    # 48 random characters: a key the app accepts outside testing.
    env["FLASKR_SECRET_KEY"] = secrets.token_urlsafe(36)
    return env


def setting_env(settings: Sequence[str]) -> dict[str, str]:
    """FLASKR_* variables for settings given as NAME=VALUE."""
    env = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        env[f"FLASKR_{name}"] = value
    return env


def _flaskr(args: list[str], env: dict[str, str]) -> str:
    """Run a `flaskr` command; its output, or an error that shows it."""
    done = subprocess.run([BIN / "flaskr", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"flaskr {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_database(
    folder: Path,
    posts: int,
    tags: int,
    source: Path | None,
    settings: Sequence[str] = (),
    database_url: str | None = None,
) -> tuple[dict[str, str], str]:
    """Create and fill a fresh database (SQLite in folder, or the empty PostgreSQL
    database at database_url); return its environment and the seeding command."""
    env = bench_env(folder / "bench.sqlite", source, settings, database_url)
    _flaskr(["init-db"], env)
    seed = ["demo-data", "--users", "100", "--posts", str(posts), "--seed", "1"]
    if tags and "--tags" in _flaskr(["demo-data", "--help"], env):
        seed += ["--tags", str(tags)]
    _flaskr(seed, env)
    return env, "flaskr " + " ".join(seed)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run (dropped at the end); its URL.

    admin_url is any database of the server, for CREATE and DROP DATABASE.
    Databases of earlier runs whose process is gone (killed runs) are dropped first.
    """
    import sqlalchemy as sa  # only runs with PostgreSQL need it

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"{PG_PREFIX}{os.getpid()}"
    try:
        with admin.connect() as conn:
            _drop_abandoned_databases(conn)
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.SQLAlchemyError as error:
        raise SystemExit(
            f"cannot create a database beside {sa.make_url(admin_url)!r} ({error.orig or error}):"
            " start PostgreSQL, pass --pg-url, or leave it out with --no-pg"
        ) from error
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: a server that outlived its stop must not keep the database.
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


PG_PREFIX = "flaskr_bench_"


def _drop_abandoned_databases(conn: Any) -> None:
    names = conn.exec_driver_sql(
        "SELECT datname FROM pg_database WHERE datname ~ %s", (f"^{PG_PREFIX}[0-9]+$",)
    ).scalars()
    for name in list(names):
        try:
            os.kill(int(name.removeprefix(PG_PREFIX)), 0)
        except ProcessLookupError:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except PermissionError:
            pass  # alive, another user's run


def server_command(
    kind: str, port: int, workers: int | None, threads: int | None, app: str = ""
) -> list[str]:
    """The command line that serves flaskr (or `app`, a granian factory) with one server
    configuration. `flaskr serve` is granian set up in flaskr/serving.py; another app
    under "flaskr" gets the granian command with the same settings."""
    bind = f"127.0.0.1:{port}"
    if kind == "flaskr" and not app:
        command = [str(BIN / "flaskr"), "serve", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        return command + (["--threads", str(threads)] if threads else [])
    if kind == "flaskr":  # what `flaskr serve` runs, for another app
        kind, workers, threads = "granian", workers or os.cpu_count() or 1, threads or 4
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    threads = threads or 1
    if kind in ("gunicorn-sync", "gunicorn-gthread"):
        worker_class = "sync" if kind == "gunicorn-sync" else "gthread"
        return [
            str(BIN / "gunicorn"), "--bind", bind, "--workers", str(workers),
            "--worker-class", worker_class, "--threads", str(threads),
            # Gunicorn 23+ opens ~/.gunicorn/gunicorn.ctl: shared by every gunicorn of the
            # user, so several servers (or other people's) would fight over it.
            "--no-control-socket", "--log-level", "warning",
            f"{app}()" if app else "flaskr:create_app()",
        ]  # fmt: skip
    if kind == "granian":
        return [
            str(BIN / "granian"), "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads),
            "--log-level", "warning", "--no-ws", app or "flaskr:create_app",
        ]  # fmt: skip
    raise ValueError(f"unknown server {kind!r}")


@contextmanager
def running_server(
    kind: str,
    env: dict[str, str],
    workers: int | None,
    threads: int | None,
    log: Path,
    app: str = "",
    cwd: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start a server on a free port, yield its base URL and process, then stop it."""
    port = free_port()
    command = server_command(kind, port, workers, threads, app)
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        # Its own session, so stopping it reaches the workers and nothing else.
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/hello", proc)
        yield base, proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group: politely, then firmly."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError):
            # A pid stays reserved while its group has members, so this reaches only
            # workers the master left behind.
            os.killpg(proc.pid, signal.SIGKILL)
        return
