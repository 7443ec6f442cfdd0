"""Rate limits: per IP and per account, shared by every worker of a deployment."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
import redis

PW = "a long enough pw"
REDIS_URL = "redis://127.0.0.1:6379/13"
FLASKR = str(Path(sys.executable).with_name("flaskr"))


def _limited_app(make_app, **settings):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute", **settings)


def _login(client, username="alice", password="wrong password", ip="10.0.0.1"):
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _assert_limited(response, window: int = 60) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= window
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and 'class="site-nav"' in page


def test_limits_are_off_under_testing_unless_set(client):
    for _ in range(15):
        assert _login(client).status_code == 200


def test_login_is_limited_per_ip(make_app):
    client = _limited_app(make_app).test_client()
    for n in range(3):
        assert _login(client, username=f"user{n}").status_code == 200
    _assert_limited(_login(client, username="user9"))
    # Another address is not affected; reading the form never counts.
    assert _login(client, username="user9", ip="10.0.0.2").status_code == 200
    assert client.get("/auth/login").status_code == 200


def test_login_is_limited_per_account_across_addresses(make_app, make_user):
    make_user("alice", PW)
    client = _limited_app(make_app).test_client()
    for n in range(3):
        assert _login(client, ip=f"10.0.1.{n}").status_code == 200
    # Even the right password, from a fresh address, waits: the account is being guessed.
    _assert_limited(_login(client, password=PW, ip="10.0.1.99"))
    _assert_limited(_login(client, username="ALICE", ip="10.0.1.98"))
    assert _login(client, username="bob", ip="10.0.1.97").status_code == 200


def test_register_is_limited_per_ip(make_app):
    client = _limited_app(make_app).test_client()
    for n in range(3):
        response = client.post("/auth/register", data={"username": f"u{n}", "password": PW})
        assert response.status_code == 302
    _assert_limited(client.post("/auth/register", data={"username": "u9", "password": PW}))


def test_password_change_is_limited_per_account(make_app, make_user):
    make_user("alice", PW)
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_ACCOUNT="2 per hour")
    client = app.test_client()
    assert _login(client, password=PW).status_code == 302
    for _ in range(2):
        response = client.post(
            "/auth/account/password",
            data={"current_password": "wrong", "new_password": "another long one"},
            environ_base={"REMOTE_ADDR": "10.0.2.1"},
        )
        assert response.status_code == 400
    response = client.post(
        "/auth/account/password",
        data={"current_password": PW, "new_password": "another long one"},
        environ_base={"REMOTE_ADDR": "10.0.2.2"},
    )
    _assert_limited(response, window=3600)


def test_rate_limit_hits_are_logged(make_app, caplog):
    caplog.set_level(logging.INFO)
    client = _limited_app(make_app).test_client()
    for _ in range(4):
        _login(client, ip="10.0.3.1")
    lines = [r.getMessage() for r in caplog.records if "rate-limited" in r.getMessage()]
    assert len(lines) == 1
    assert "ip=10.0.3.1" in lines[0] and "path=/auth/login" in lines[0]


def test_limits_hold_across_two_apps_sharing_the_file_storage(make_app):
    # Two app objects on one database stand in for two worker processes.
    first, second = _limited_app(make_app), _limited_app(make_app)
    assert first.config["RATELIMIT_STORAGE_URI"].startswith("flaskr+sqlite://")
    a, b = first.test_client(), second.test_client()
    assert [_login(c).status_code for c in (a, b, a)] == [200, 200, 200]
    _assert_limited(_login(b))


def test_each_app_keeps_its_own_limiter_settings(make_app):
    limited = _limited_app(make_app)
    unlimited = make_app()  # built later, with limits off
    for _ in range(5):
        assert _login(unlimited.test_client()).status_code == 200
    client = limited.test_client()
    assert [_login(client).status_code for _ in range(4)][-1] == 429


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in Redis, deleted afterwards."""
    prefix = f"flaskr-test-{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    keys = list(store.scan_iter(match=f"*{prefix}*"))
    if keys:
        store.delete(*keys)
    store.close()


def test_limits_hold_across_two_apps_sharing_redis(make_app, redis_prefix):
    settings = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = _limited_app(make_app, **settings), _limited_app(make_app, **settings)
    assert first.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    a, b = first.test_client(), second.test_client()
    assert [_login(c).status_code for c in (a, b, a)] == [200, 200, 200]
    _assert_limited(_login(b))
    store = redis.Redis.from_url(REDIS_URL)
    assert list(store.scan_iter(match=f"*{redis_prefix}*"))
    store.close()


# --- a real server with two worker processes ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _login_request(username: str) -> bytes:
    body = f"username={username}&password=wrong+password".encode()
    return (
        b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _read_status(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    sock.settimeout(20)
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1]), data


def _send(port: int, request: bytes) -> tuple[int, bytes]:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request)
    return _read_status(sock)


@pytest.fixture
def server(app_config, tmp_path):
    """Start `flaskr serve --workers 2` with limits on; yield (port, start)."""
    processes = []

    def start(**env_extra: str) -> int:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
        env.update(
            FLASKR_DATABASE=app_config["DATABASE"],
            FLASKR_SECRET_KEY="0123456789abcdef" * 3,
            FLASKR_RATELIMIT_LOGIN="5 per minute",
            FLASKR_WTF_CSRF_ENABLED="false",  # not what this test is about
            **env_extra,
        )
        if app_config["DATABASE_URL"]:
            env["FLASKR_DATABASE_URL"] = str(app_config["DATABASE_URL"])
        process = subprocess.Popen(
            [FLASKR, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _send(port, b"GET /hello HTTP/1.0\r\n\r\n")[0] == 200:
                    return port
            except OSError:
                time.sleep(0.2)
        process.kill()
        raise AssertionError(process.communicate()[0].decode())

    yield start
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


ATTEMPTS = 16


def _concurrent_logins(port: int) -> list[int]:
    """Fire ATTEMPTS logins at once on fresh connections, so both workers take some."""
    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        requests = [_login_request(f"u{n}") for n in range(ATTEMPTS)]
        return list(pool.map(lambda request: _send(port, request)[0], requests))


def _limit_spans_both_workers(port: int) -> None:
    """A limit of 5 per minute lets exactly 5 of many simultaneous attempts through."""
    statuses = _concurrent_logins(port)
    assert sorted(statuses) == [200] * 5 + [429] * (ATTEMPTS - 5)


@pytest.mark.slow
def test_per_process_counters_would_let_more_through(server):
    """The control for the tests below: with counters kept in each worker's memory,
    the same burst gets more than 5 attempts through - so those tests can fail."""
    port = server(FLASKR_RATELIMIT_STORAGE_URI="memory://")
    statuses = _concurrent_logins(port)
    assert statuses.count(200) > 5


@pytest.mark.slow
def test_limit_holds_across_two_worker_processes_with_file_storage(server):
    port = server()
    _limit_spans_both_workers(port)
    status, response = _send(port, _login_request("c1"))
    assert status == 429
    # Header names are case-insensitive (granian sends them in lower case).
    head = response.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nretry-after: " in head
    server_header = [line for line in head.split(b"\r\n") if line.startswith(b"server:")]
    assert not any(char.isdigit() for line in server_header for char in line.decode())


@pytest.mark.slow
def test_limit_holds_across_two_worker_processes_with_redis(server, redis_prefix):
    port = server(FLASKR_REDIS_URL=REDIS_URL, FLASKR_RATELIMIT_KEY_PREFIX=redis_prefix)
    _limit_spans_both_workers(port)
    store = redis.Redis.from_url(REDIS_URL)
    assert list(store.scan_iter(match=f"*{redis_prefix}*"))
    store.close()


def test_file_storage_counts_expires_and_resets(tmp_path):
    from flaskr.ratelimit import SQLiteStorage

    storage = SQLiteStorage(f"flaskr+sqlite://{tmp_path / 'limits' / 'counts.sqlite'}")
    assert storage.check()
    assert [storage.incr("k", expiry=60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3
    assert time.time() < storage.get_expiry("k") <= time.time() + 60
    storage.incr("short", expiry=0)  # a window that is already over
    assert storage.get("short") == 0
    assert storage.incr("short", expiry=60) == 1  # a new window starts from zero
    storage.clear("k")
    assert storage.get("k") == 0
    storage.incr("k", expiry=60)
    assert storage.reset() == 2
    assert storage.get("short") == 0
    # A second storage object on the same file (another worker) sees the same counts.
    other = SQLiteStorage(f"flaskr+sqlite://{storage.path}")
    storage.incr("shared", expiry=60)
    assert other.incr("shared", expiry=60) == 2


def test_file_storage_rolls_back_a_failed_count(tmp_path):
    from flaskr.ratelimit import SQLiteStorage

    storage = SQLiteStorage(f"flaskr+sqlite://{tmp_path / 'counts.sqlite'}")
    storage.incr("k", expiry=60)
    with pytest.raises(sqlite3.Error):
        storage.incr("k", expiry=60, amount=[1])  # type: ignore[arg-type] - cannot be bound
    assert storage.get("k") == 1
    assert storage.incr("k", expiry=60) == 2  # the connection is usable again
    assert storage.base_exceptions is sqlite3.Error


def test_file_storage_sweeps_out_expired_counters(tmp_path):
    from flaskr.ratelimit import PURGE_EVERY, SQLiteStorage

    storage = SQLiteStorage(f"flaskr+sqlite://{tmp_path / 'counts.sqlite'}")

    def keys() -> list[str]:
        with closing(sqlite3.connect(storage.path)) as conn:
            return [key for (key,) in conn.execute("SELECT key FROM hits")]

    for n in range(PURGE_EVERY - 1):
        storage.incr(f"account:made-up-name-{n}", expiry=0)
    assert len(keys()) == PURGE_EVERY - 1
    storage.incr("fresh", expiry=60)
    assert keys() == ["fresh"]
