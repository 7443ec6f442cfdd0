"""Rate limits: per IP and per account, shared by every worker of a deployment."""

from __future__ import annotations

import logging
import socket
import sqlite3
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
import redis
from servers import FLASKR, free_port, servers_for

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

PW = "a long enough pw"
REDIS_URL = "redis://127.0.0.1:6379/13"


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
    """Start `flaskr serve --workers 2` with limits on; its port."""
    for servers in servers_for(app_config, tmp_path):

        def start(**settings: str) -> int:
            command = [FLASKR, "serve", "--workers", "2", "--port", "{port}"]
            return servers.start(
                command,
                RATELIMIT_LOGIN="5 per minute",
                WTF_CSRF_ENABLED="false",  # not what this test is about
                **settings,
            )

        yield start


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
    port = server(RATELIMIT_STORAGE_URI="memory://")
    # A loaded machine may hand a whole burst to one worker: keep bursting until
    # the other worker has answered too (shared counters never pass 5, however long).
    admitted = 0
    for _ in range(8):
        admitted += _concurrent_logins(port).count(200)
        if admitted > 5:
            break
    assert admitted > 5


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
    port = server(REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
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


# --- one limiter per app, through Flask-Limiter's public API -----------------------


def test_each_app_has_its_own_plain_flask_limiter(make_app):
    from flask_limiter import Limiter

    first, second = _limited_app(make_app), _limited_app(make_app)
    limiters = [app.extensions["flaskr.limiter"] for app in (first, second)]
    # Flask-Limiter's own class, not a subclass that overrides its private attributes.
    assert [type(limiter) for limiter in limiters] == [Limiter, Limiter]
    assert limiters[0] is not limiters[1]
    assert first.extensions["limiter"] == {limiters[0]}


def test_views_are_wrapped_only_where_limits_are_on(make_app):
    from flaskr.auth import views

    assert make_app().view_functions["auth.login"] is views.login
    limited = _limited_app(make_app).view_functions["auth.login"]
    assert limited is not views.login and limited.__wrapped__ is not None
    # The module's function stays as it was: other apps wrap their own copy.
    assert not hasattr(views.login, "__wrapped__")


def test_signed_out_visitor_is_sent_to_login_without_counting_against_an_account(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_ACCOUNT="1 per hour").test_client()
    for _ in range(3):
        response = client.post("/auth/account/password", data={"current_password": "x"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/auth/login")


# --- Retry-After only where it means something -------------------------------------


def test_successful_responses_carry_no_retry_after(make_app, make_user):
    make_user("alice", PW)
    client = _limited_app(make_app).test_client()
    responses = [
        client.get("/auth/login"),
        _login(client),  # a failed login: 200 with the form again
        _login(client, password=PW),  # signed in: 302
        client.get("/"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 302, 200]
    for response in responses:
        assert "Retry-After" not in response.headers
        names = [name.lower() for name, _ in response.headers.items()]
        assert not any(name.startswith("x-ratelimit") for name in names)


def test_503_on_a_limited_page_keeps_the_outage_retry_after(make_app, tmp_path):
    from flaskr.errors import RETRY_AFTER_SECONDS

    folder = tmp_path / "volume"
    app = _limited_app(
        make_app,
        DATABASE=str(folder / "flaskr.sqlite"),
        DATABASE_URL=None,
        RATELIMIT_STORAGE_URI="memory://",
    )
    client = app.test_client()
    assert client.get("/auth/login").status_code == 200  # migrated and working
    # The database's folder becomes a file: new connections fail as in an outage.
    folder.rename(tmp_path / "moved")
    folder.write_text("not a folder")
    app.extensions["flaskr.engine"].dispose()
    response = _login(client)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_429_says_the_longest_wait_of_the_limits_exceeded(make_app):
    client = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute;2 per hour"
    ).test_client()
    for n in range(2):
        assert _login(client, username=f"user{n}").status_code == 200
    response = _login(client, username="user9")
    # Both limits are spent: retrying after a minute would only meet the hourly one.
    _assert_limited(response, window=3600)
    assert int(response.headers["Retry-After"]) > 60


# --- Redis down: count per process, log once, recover ------------------------------


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own (the shared one is never stopped)."""
    port = free_port()
    processes: list[subprocess.Popen] = []

    class Server:
        url = f"redis://127.0.0.1:{port}/0"

        def start(self) -> None:
            processes.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(tmp_path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                        return
                except redis.RedisError:
                    time.sleep(0.05)
            raise AssertionError("private redis-server did not start")

        def stop(self) -> None:
            processes[-1].kill()
            processes[-1].wait()

    server = Server()
    server.start()
    yield server
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "storage unreachable" in r.getMessage()]


def test_redis_outage_counts_per_process_logs_once_and_recovers(
    make_app, make_user, private_redis, caplog
):
    caplog.set_level(logging.INFO)
    make_user("alice", PW)
    settings = {"REDIS_URL": private_redis.url}
    first, second = _limited_app(make_app, **settings), _limited_app(make_app, **settings)
    a, b = first.test_client(), second.test_client()
    assert _login(a, ip="10.4.0.1").status_code == 200  # both see Redis working
    assert _login(b, ip="10.4.0.1").status_code == 200

    private_redis.stop()
    # Pages and logins keep working.
    assert a.get("/").status_code == 200
    assert _login(a, password=PW, ip="10.4.0.2").status_code == 302
    # Each process (app) now counts alone: 3 a minute each, not 3 in all.
    for client in (a, b):
        statuses = [_login(client, username=f"u{n}", ip="10.4.0.3").status_code for n in range(4)]
        assert statuses == [200, 200, 200, 429]
    # One line per process for the whole outage, not one per request.
    assert len(_outage_lines(caplog)) == 2

    private_redis.start()
    recovered = 0
    deadline = time.monotonic() + 90  # Flask-Limiter re-checks with backoff, up to 32 s apart
    n = 0
    while recovered < 2 and time.monotonic() < deadline:
        for client in (a, b):
            n += 1
            assert _login(client, username=f"r{n}", ip=f"10.5.0.{n}").status_code == 200
        messages = [r.getMessage() for r in caplog.records]
        recovered = messages.count("Rate limit storage recovered")
        time.sleep(0.5)
    assert recovered == 2
    # Shared counting again: the two apps together allow 3.
    assert [_login(c, ip="10.4.0.9").status_code for c in (a, b, a)] == [200, 200, 200]
    _assert_limited(_login(b, ip="10.4.0.9"))
    assert len(_outage_lines(caplog)) == 2


def test_redis_that_never_answers_delays_a_login_by_about_a_second(make_app):
    # Accepts connections (the kernel's backlog) but never reads or answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        client = _limited_app(make_app, REDIS_URL=f"redis://127.0.0.1:{port}/0").test_client()
        started = time.monotonic()
        assert _login(client).status_code == 200
        assert time.monotonic() - started < 5


# --- Per-request hooks only where a limit can apply -------------------------------


def _hook_owners(app):
    """The objects behind the app-wide request hooks (a bound method's instance, a partial's)."""
    hooks = [
        *app.before_request_funcs.get(None, ()),
        *app.after_request_funcs.get(None, ()),
        *app.teardown_request_funcs.get(None, ()),
    ]
    return [
        getattr(hook, "__self__", None) or next(iter(getattr(hook, "args", ())), None)
        for hook in hooks
    ]


def test_no_app_wide_limit_means_no_limiter_hook_on_every_request(make_app):
    app = _limited_app(make_app)
    assert app.extensions["flaskr.limiter"] not in _hook_owners(app)
    # The views' own limits still hold: their wrappers check them.
    client = app.test_client()
    for n in range(3):
        assert _login(client, username=f"user{n}").status_code == 200
    _assert_limited(_login(client, username="user9"))


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_an_app_wide_limit_is_checked_on_every_page(make_app, setting):
    app = make_app(RATELIMIT_ENABLED=True, **{setting: "2 per minute"})
    client = app.test_client()
    assert [client.get("/hello").status_code for _ in range(3)] == [200, 200, 429]


def test_a_limit_with_deduct_when_keeps_the_after_request_hook(tmp_path):
    from flask import Flask

    from flaskr.ratelimit import limiter as ratelimit

    app = Flask(__name__)
    app.config.update(DATABASE=str(tmp_path / "db.sqlite"), REDIS_URL=None)

    @ratelimit.limit("1 per minute", deduct_when=lambda response: response.status_code == 400)
    def fails() -> tuple[str, int]:
        return "bad", 400

    @ratelimit.limit("1 per minute", deduct_when=lambda response: response.status_code == 400)
    def works() -> str:
        return "fine"

    app.add_url_rule("/fails", view_func=fails)
    app.add_url_rule("/works", view_func=works, endpoint="works")
    ratelimit.init_app(app)
    client = app.test_client()
    # Only answers that deduct count: two good answers pass, a second failure is refused.
    assert [client.get("/works").status_code for _ in range(2)] == [200, 200]
    assert [client.get("/fails").status_code for _ in range(2)] == [400, 429]
