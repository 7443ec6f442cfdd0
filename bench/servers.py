"""Fresh benchmark databases, and starting and stopping the servers under test."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    database: Path, source: Path | None = None, settings: list[str] = ()
) -> dict[str, str]:
    """The environment every command runs in: our DB and key, and only the FLASKR_*
    settings given as NAME=VALUE (none inherited from the caller's shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
    for setting in settings:
        name, _, value = setting.partition("=")
        env[f"FLASKR_{name}"] = value
    if source:
        # Ahead of the editable install's path entry, so this copy of flaskr is imported.
        env["PYTHONPATH"] = str(source)
    env["FLASKR_DATABASE"] = str(database)
    # 48 random characters: a key the app accepts outside testing.
    env["FLASKR_SECRET_KEY"] = secrets.token_urlsafe(36)
    return env


def _flaskr(args: list[str], env: dict[str, str]) -> str:
    """Run a `flaskr` command; its output, or an error that shows it."""
    done = subprocess.run([BIN / "flaskr", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"flaskr {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_database(
    folder: Path, posts: int, tags: int, source: Path | None, settings: list[str] = ()
) -> tuple[dict[str, str], str]:
    """Create and fill a fresh SQLite database; return its environment and the seeding command."""
    env = bench_env(folder / "bench.sqlite", source, settings)
    _flaskr(["init-db"], env)
    seed = ["demo-data", "--users", "100", "--posts", str(posts), "--seed", "1"]
    if tags and "--tags" in _flaskr(["demo-data", "--help"], env):
        seed += ["--tags", str(tags)]
    _flaskr(seed, env)
    return env, "flaskr " + " ".join(seed)


def server_command(kind: str, port: int, workers: int | None, threads: int) -> list[str]:
    """The command line that serves the app with one server configuration."""
    bind = f"127.0.0.1:{port}"
    if kind == "flaskr":
        command = [str(BIN / "flaskr"), "serve", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        return command + (["--threads", str(threads)] if threads > 1 else [])
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    if kind in ("gunicorn-sync", "gunicorn-gthread"):
        worker_class = "sync" if kind == "gunicorn-sync" else "gthread"
        return [
            str(BIN / "gunicorn"), "--bind", bind, "--workers", str(workers),
            "--worker-class", worker_class, "--threads", str(threads),
            # Gunicorn 23+ opens ~/.gunicorn/gunicorn.ctl: shared by every gunicorn of the
            # user, so several servers (or other people's) would fight over it.
            "--no-control-socket", "--log-level", "warning", "flaskr:create_app()",
        ]  # fmt: skip
    if kind == "granian":
        return [
            str(BIN / "granian"), "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads),
            "--log-level", "warning", "--no-ws", "flaskr:create_app",
        ]  # fmt: skip
    raise ValueError(f"unknown server {kind!r}")


@contextmanager
def running_server(
    kind: str, env: dict[str, str], workers: int | None, threads: int, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start a server on a free port, yield its base URL and process, then stop it."""
    port = free_port()
    command = server_command(kind, port, workers, threads)
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        # Its own session, so stopping it reaches the workers and nothing else.
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
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
