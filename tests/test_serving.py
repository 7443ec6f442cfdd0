"""`flaskr serve` as operators run it: graceful shutdown, and a hung database."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from faults import TcpProxy, within

FLASKR = str(Path(sys.executable).with_name("flaskr"))
PW = "a long enough pw"


class Served:
    """A `flaskr serve` child process with one worker, and plain HTTP requests to it."""

    def __init__(self, settings: dict[str, Any], cwd: Path, threads: int = 2) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
        env.update({f"FLASKR_{k}": str(v) for k, v in settings.items() if v is not None})
        env["FLASKR_SECRET_KEY"] = "0123456789abcdef" * 3
        self.process = subprocess.Popen(
            [FLASKR, "serve", "--workers", "1", "--threads", str(threads)]
            + ["--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.request("GET", "/hello", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "flaskr serve did not start"
            time.sleep(0.2)

    def request(
        self, method: str, path: str, body: str | None = None, timeout: float = 60, **headers: str
    ) -> tuple[int, http.client.HTTPMessage, str]:
        """Send one request on a new connection; return status, headers and body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            conn.close()

    def login_form(self) -> tuple[str, str]:
        """A session cookie and the login form's CSRF token for it."""
        _, headers, page = self.request("GET", "/auth/login")
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        return cookie, token.group(1)

    def log_in(self, form: tuple[str, str], username: str = "alice") -> int:
        """Post the login form (a write: it starts a session); return the status."""
        cookie, token = form
        body = urlencode({"csrf_token": token, "username": username, "password": PW})
        content_type = "application/x-www-form-urlencoded"
        status, _, _ = self.request(
            "POST", "/auth/login", body, **{"Cookie": cookie, "Content-Type": content_type}
        )
        return status

    def stop(self, timeout: float = 60) -> tuple[int, str, str]:
        """SIGTERM, then wait: return the exit code, stdout and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


@contextmanager
def write_lock(db_kind: str, app_config: dict[str, Any]) -> Iterator[None]:
    """Hold the lock every login needs (starting a session writes), until the block ends."""
    if db_kind == "sqlite":
        holder = sqlite3.connect(app_config["DATABASE"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.close()
        return
    engine = sa.create_engine(app_config["DATABASE_URL"], poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE user_session IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def _in_background(call: Any) -> dict[str, Any]:
    """Start call in a thread; the returned dict gets 'result' or 'error', and 'thread'."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except Exception as error:
            outcome["error"] = error

    outcome["thread"] = threading.Thread(target=run, daemon=True)
    outcome["thread"].start()
    return outcome


# --- graceful shutdown ----------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_lets_requests_in_progress_finish_and_exits_zero(
    app_config, make_user, db_kind, tmp_path
):
    make_user("alice", PW)
    served = Served({**app_config, "SHUTDOWN_GRACE_SECONDS": 20}, tmp_path)
    try:
        form = served.login_form()
        with write_lock(db_kind, app_config):
            login = _in_background(lambda: served.log_in(form))
            time.sleep(1.5)  # the login now waits for the lock
            assert "result" not in login
            served.process.send_signal(signal.SIGTERM)
            time.sleep(1.5)
        login["thread"].join(30)
        assert login.get("result") == 302, login
    finally:
        code, _, err = served.stop()
    assert code == 0, err
    assert "cut off" not in err


@pytest.mark.slow
def test_sigterm_cuts_requests_after_the_grace_period_and_exits_non_zero(
    app_config, make_user, db_kind, tmp_path
):
    make_user("alice", PW)
    settings = {**app_config, "SHUTDOWN_GRACE_SECONDS": 2, "DATABASE_STATEMENT_TIMEOUT": 60}
    served = Served(settings, tmp_path)
    try:
        form = served.login_form()
        with write_lock(db_kind, app_config):
            login = _in_background(lambda: served.log_in(form))
            time.sleep(1.5)
            stopped_at = time.monotonic()
            code, _, err = served.stop(timeout=30)
            stopped_in = time.monotonic() - stopped_at
            login["thread"].join(10)
    finally:
        if served.process.poll() is None:
            served.process.kill()
    assert code == 1
    assert "1 request(s) were still running after SHUTDOWN_GRACE_SECONDS (2)" in err
    assert 1.5 < stopped_in < 10
    assert isinstance(login.get("error"), http.client.RemoteDisconnected | ConnectionError)


# --- a hung database does not take /hello down with it -------------------------------


@pytest.mark.slow
def test_hello_answers_while_every_request_thread_waits_on_a_hung_database(
    app_config, make_user, db_kind, tmp_path
):
    make_user("alice", PW)
    settings = {**app_config, "DATABASE_STATEMENT_TIMEOUT": 2, "DATABASE_CONNECT_TIMEOUT": 2}
    proxy = None
    if db_kind == "postgresql":
        url = sa.make_url(app_config["DATABASE_URL"])
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
        proxy.start()
        settings["DATABASE_URL"] = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )
    served = Served(settings, tmp_path, threads=2)
    try:
        form = served.login_form()
        hung = []
        with write_lock(db_kind, app_config) if db_kind == "sqlite" else _frozen(proxy):
            # As many requests as the worker has threads, each stuck on the database.
            for _ in range(2):
                if db_kind == "sqlite":
                    hung.append(_in_background(lambda: served.log_in(form)))
                else:
                    hung.append(_in_background(lambda: served.request("GET", "/")[0]))
            time.sleep(0.5)
            (status, _, body), elapsed = within(30, lambda: served.request("GET", "/hello"))
            assert (status, body) == (200, "Hello, World!")
            assert elapsed < 10
            for request in hung:
                request["thread"].join(30)
                assert request.get("result") == 503, request
    finally:
        served.stop()
        if proxy is not None:
            proxy.stop()


@contextmanager
def _frozen(proxy: TcpProxy | None) -> Iterator[None]:
    assert proxy is not None
    proxy.freeze()
    try:
        yield
    finally:
        proxy.thaw()
