"""Security baseline: headers, trusted hosts, safe redirects, the audit log."""

from __future__ import annotations

import logging
import re
import threading

import pytest
from flask import Response, g
from flask.logging import default_handler

from flaskr.policy import public
from flaskr.security import CSP, audit, is_own_navigation, safe_path, vary

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

PW = "a long enough pw"


# --- headers ----------------------------------------------------------------------


def _pages(client, make_user, make_post):
    """A mix of responses: pages, static, redirects, errors."""
    user_id = make_user("alice", PW)
    make_post(user_id, title="Hello")
    responses = [
        client.get("/"),
        client.get("/hello"),
        client.get("/1/hello"),
        client.get("/auth/login"),
        client.get("/static/style.css"),
        client.get("/no/such/page"),
        client.get("/?page=x%00"),
        client.get("/auth/account/password"),
        client.post("/auth/login", data={"username": "alice", "password": PW}),
        client.get("/create"),
        client.get("/auth/account"),
    ]
    for response in responses:
        response.get_data()
        response.close()  # a static file's handle, otherwise left to the GC
    return responses


def test_security_headers_on_every_response(client, make_user, make_post):
    for response in _pages(client, make_user, make_post):
        headers = response.headers
        assert headers["Content-Security-Policy"] == CSP, response
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"  # browsers older than frame-ancestors
        assert "Strict-Transport-Security" not in headers  # plain http
    assert "unsafe-inline" not in CSP
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in CSP


def test_pages_have_no_inline_script_or_style(client, make_user, make_post):
    for response in _pages(client, make_user, make_post):
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page, re.I), page
        assert not re.search(r"<style\b|\sstyle=", page, re.I)
        assert not re.search(r"\son[a-z]+=", page, re.I)  # no inline event handlers


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "max-age=0" not in response.headers["Strict-Transport-Security"]


def test_hsts_behind_a_trusted_https_proxy(make_app):
    proxied = make_app(PROXY_FIX={"x_for": 1, "x_proto": 1}).test_client()
    response = proxied.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    assert "Strict-Transport-Security" not in proxied.get("/").headers
    # Without PROXY_FIX the header is anyone's to send, and is ignored.
    direct = make_app().test_client()
    response = direct.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    # A proxy trusted for the client's address only has no say on the scheme.
    for_only = make_app(PROXY_FIX={"x_for": 1, "x_proto": 0}).test_client()
    response = for_only.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_logged_in_pages_are_not_cached(client, auth, make_user, make_post):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    user_id = make_user("alice", PW)
    make_post(user_id)
    auth.login("alice", PW)
    for path in ("/", "/create", "/auth/account", "/1/update", "/1/hello"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path


#: The header lines every response carries, exactly as sent (names keep their case).
EVERY_RESPONSE = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
]
#: Over HTTPS: browsers then use nothing else here, subdomains included, for a year.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


@pytest.fixture
def probes(make_app):
    """The app with a plain text page at /probe and at /auth/probe."""
    app = make_app()

    def probe() -> str:
        return "probe"

    app.add_url_rule("/probe", "probe", public(probe))
    app.add_url_rule("/auth/probe", "auth_probe", public(probe))
    return app


def _sent(response) -> list[tuple[str, str]]:
    """Every header line of the response as sent (names keep their case), sorted.

    A Vary line's values are sorted too: which hook adds which one first is no
    promise, only that each is said, on one line.
    """
    return sorted(
        (name, ", ".join(sorted(value.split(", "))) if name == "Vary" else value)
        for name, value in response.headers.items()
    )


#: The probe page's own headers.
PROBE = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "5")]
#: Flask sends Cookie on every page (every request reads the session to find the
#: user; the app adds it, with no-store, to private pages); pages are written in
#: the language the browser asks for.
VARY = ("Vary", "Accept-Language, Cookie")
NO_STORE = ("Cache-Control", "no-store")


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ([], "Accept-Language"),
        (["Cookie"], "Cookie, Accept-Language"),
        (["Cookie, accept-language"], "Cookie, accept-language"),
        (["Origin", "Cookie"], "Origin, Cookie, Accept-Language"),
        (["Accept-Language", "Cookie"], "Accept-Language, Cookie"),
    ],
)
def test_vary_says_each_header_once_on_one_line(written, said):
    """What a view wrote stays (in any case), a name already said is not said twice,
    and several Vary lines become one."""
    response = Response("page")
    for line in written:
        response.headers.add("Vary", line)
    vary(response, "Accept-Language")
    assert response.headers.getlist("Vary") == [said]


def test_a_visitors_page_carries_each_security_header_once_as_written(probes):
    response = probes.test_client().get("/probe")
    assert _sent(response) == sorted([*PROBE, *EVERY_RESPONSE, VARY])


@pytest.mark.parametrize("name", [name for name, _ in [*EVERY_RESPONSE, HSTS]])
@pytest.mark.parametrize("spelled", [str.lower, str.upper, str])
def test_a_header_the_view_set_itself_is_sent_instead_of_the_default(make_app, name, spelled):
    """A view may say its own framing or policy (an embeddable page, say): it is sent
    as the view wrote it, once, whatever the case of its name."""
    app = make_app()

    def own() -> tuple[str, int, dict[str, str]]:
        return "own", 200, {spelled(name): "the view's own"}

    app.add_url_rule("/own", "own", public(own))
    response = app.test_client().get("/own", base_url="https://localhost")
    assert response.headers.getlist(name) == ["the view's own"]


@pytest.mark.parametrize("written", [["Origin"], ["Origin", "accept-language"], ["Origin, Cookie"]])
def test_a_views_own_vary_lines_are_kept_on_the_one_vary_line(make_app, written):
    app = make_app()

    def own() -> Response:
        response = Response("own")
        for line in written:
            response.headers.add("Vary", line)
        return response

    app.add_url_rule("/own", "own", public(own))
    (line,) = app.test_client().get("/own").headers.getlist("Vary")
    names = line.split(", ")
    assert names[0] == "Origin"
    assert sorted(name.lower() for name in names) == ["accept-language", "cookie", "origin"]


def test_hsts_is_sent_once_as_written_over_https(probes):
    response = probes.test_client().get("/probe", base_url="https://localhost")
    assert _sent(response) == sorted([*PROBE, *EVERY_RESPONSE, VARY, HSTS])


def test_a_visitors_auth_page_is_kept_by_no_cache(probes):
    """Sign-in pages hold per-visitor tokens and messages: no shared or browser cache may
    keep one, and caches must tell visitors apart by their cookie."""
    response = probes.test_client().get("/auth/probe")
    assert _sent(response) == sorted([*PROBE, *EVERY_RESPONSE, NO_STORE, VARY])


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/no-such-page"])
def test_a_visitors_sign_in_pages_are_kept_by_no_cache(client, path):
    response = client.get(path)
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert [line for line in _sent(response) if line[0] == "Vary"] == [VARY]


def test_a_signed_in_users_page_is_kept_by_no_cache(probes, make_user):
    make_user("alice", PW)
    client = probes.test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})
    response = client.get("/probe")
    assert [line for line in _sent(response) if line[0] in ("Cache-Control", "Vary")] == [
        NO_STORE,
        VARY,
    ]


def test_untrusted_host_is_a_400(make_app):
    client = make_app(TRUSTED_HOSTS=["blog.example"]).test_client()
    assert client.get("/", headers={"Host": "blog.example"}).status_code == 200
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "not trusted" in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = client.get("/", headers={"Host": "<b>evil.example"})
    assert response.status_code == 400
    assert "<b>" not in response.get_data(as_text=True)


def test_trusted_hosts_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("FLASKR_TRUSTED_HOSTS", "blog.example, www.blog.example")
    app = make_app()
    assert app.config["TRUSTED_HOSTS"] == ["blog.example", "www.blog.example"]
    client = app.test_client()
    assert client.get("/", headers={"Host": "www.blog.example"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


# --- redirects --------------------------------------------------------------------

EVIL_TARGETS = [
    "evil.example",
    "//evil.example",
    "///evil.example",  # browsers read it as //evil.example
    "//",
    "/\\evil.example",
    "/a/..\\/\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\tevil",
    "/\t/evil.example",  # browsers drop the tab
    "/\r\n/evil.example",
    "/\x00",
    "/a\x1fb",
    "\\\\evil.example",
    "",
    None,
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_safe_path_refuses_other_sites(target):
    assert safe_path(target) == "/"


@pytest.mark.parametrize(
    "target",
    ["/", "/create", "/1/update", "/search?q=a%20b", "/tag/x", "/tag/a b", "/u/\u00e9ve?q=\x7f"],
)
def test_safe_path_keeps_paths_on_this_site(target):
    assert safe_path(target) == target


@pytest.mark.parametrize("target", [t for t in EVIL_TARGETS if t])
def test_login_never_redirects_off_site(client, make_user, target):
    make_user("alice", PW)
    with client.session_transaction() as sess:
        sess["next"] = target
    response = client.post(
        "/auth/login?next=" + "%2F%2Fevil.example", data={"username": "alice", "password": PW}
    )
    assert response.headers["Location"] == "/"


def test_login_redirect_is_exactly_auth_login_and_returns_after(client, make_user, make_post):
    user_id = make_user("alice", PW)
    make_post(user_id)
    for path in ("/create", "/1/update", "/auth/account"):
        response = client.get(path)
        assert response.headers["Location"] == "/auth/login"
    response = client.post("/auth/login", data={"username": "alice", "password": PW})
    assert response.headers["Location"] == "/auth/account"  # the last page asked for


# --- audit log --------------------------------------------------------------------


def _audit_lines(caplog) -> list[str]:
    """The security log lines, formatted as the app's log handler writes them."""
    return [
        default_handler.formatter.format(record)
        for record in caplog.records
        if record.getMessage().startswith("security ")
    ]


def test_routine_events_are_info_and_the_rest_warnings_all_logged_by_default(
    client, auth, make_user, caplog
):
    """Nothing is set up for logging here: the app's own settings keep INFO lines."""
    make_user("alice", "Sup3r-Secret-Passw0rd")
    auth.login("alice", "wrong password here")
    auth.login("alice", "Sup3r-Secret-Passw0rd")
    levels = {
        record.getMessage().split()[1]: record.levelname
        for record in caplog.records
        if record.getMessage().startswith("security ")
    }
    assert levels == {"login-failed": "WARNING", "login": "INFO"}


def test_the_app_sets_the_audit_logger_to_info(make_app):
    audit_log = logging.getLogger("flaskr.audit")
    audit_log.setLevel(logging.NOTSET)  # as in a fresh process
    make_app()
    assert audit_log.level == logging.INFO


def test_an_audit_level_set_by_the_operator_is_kept(make_app):
    logging.getLogger("flaskr.audit").setLevel(logging.ERROR)
    try:
        make_app()
        assert logging.getLogger("flaskr.audit").level == logging.ERROR
    finally:
        logging.getLogger("flaskr.audit").setLevel(logging.NOTSET)


def test_login_success_and_failure_are_logged_with_time_user_and_ip(
    client, auth, make_user, caplog
):
    caplog.set_level(logging.INFO)
    user_id = make_user("alice", "Sup3r-Secret-Passw0rd")
    auth.login("alice", "wrong password here")
    auth.login("nobody", "whatever it is")
    auth.login("alice", "Sup3r-Secret-Passw0rd")
    lines = _audit_lines(caplog)
    time_stamp = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    assert all(time_stamp.match(line) for line in lines), lines
    failed = [line for line in lines if "login-failed" in line]
    assert len(failed) == 2
    assert all("ip=127.0.0.1" in line for line in lines)
    assert "username=alice" in failed[0] and "username=nobody" in failed[1]
    (success,) = [line for line in lines if "security login " in line]
    assert f"user_id={user_id}" in success


def test_logs_never_hold_passwords_or_cookies(client, auth, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    make_user("alice", "Sup3r-Secret-Passw0rd")
    auth.login("alice", "Wr0ng-Secret-Passw0rd")
    auth.login("alice", "Sup3r-Secret-Passw0rd")
    cookie = client.get_cookie("session").value
    with client.session_transaction() as sess:
        token = sess["sid"]
    client.post(
        "/auth/account/password",
        data={"current_password": "Sup3r-Secret-Passw0rd", "new_password": "N3w-Secret-Passw0rd"},
    )
    client.post("/auth/account/delete", data={"password": "D3l-Secret-Passw0rd"})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "security login" in text
    for secret in ("Secret-Passw0rd", cookie, token, cookie[:20]):
        assert secret not in text


def test_a_username_with_a_newline_cannot_forge_a_log_line(client, auth, caplog):
    caplog.set_level(logging.INFO)
    forged = "mallory\n[2026-01-01 00:00:00,000] WARNING in security: security login user_id=1"
    auth.login(forged, "whatever it is")
    auth.login("eve\r\nsecurity login user_id=1", "whatever it is")
    lines = _audit_lines(caplog)
    assert len(lines) == 2
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert line.count("security ") == 2  # the logger's tag and the escaped copy
        assert "login-failed" in line


def test_authorization_failures_are_logged(client, auth, make_user, make_post, caplog):
    caplog.set_level(logging.INFO)
    alice = make_user("alice", PW)
    bob = make_user("bob", PW)
    make_post(alice)
    auth.login("bob", PW)
    assert client.post("/1/update", data={"title": "x", "body": "y"}).status_code == 403
    (line,) = [line for line in _audit_lines(caplog) if "forbidden" in line]
    assert f"user_id={bob}" in line and "ip=127.0.0.1" in line and "post_id=1" in line


def test_control_characters_in_the_path_are_a_400(client):
    response = client.get("/tag/a%01b")
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)


#: A field of a security line: key=value, the value bare (no space, no quote) or quoted,
#: with \\ and \" escaped inside the quotes.
_FIELD = r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)'
_LINE = re.compile(rf"security (\S+)((?: {_FIELD})*)")


def _fields(message: str) -> tuple[str, dict[str, str]]:
    """The event and fields of a security line (values unescaped); fails on any other shape."""
    match = _LINE.fullmatch(message)
    assert match, message
    fields = {}
    for key, value in re.findall(_FIELD, match.group(2)):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        fields[key] = value.encode("ascii").decode("unicode_escape")
    return match.group(1), fields


def _audited(app, event: str, user=None, **fields) -> str:
    """What audit() logs for one event in a request from 203.0.113.9."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    app.logger.addHandler(handler)
    try:
        with app.test_request_context("/x", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
            g.user = user
            audit(event, **fields)
    finally:
        app.logger.removeHandler(handler)
    (record,) = records
    return record.getMessage()


@pytest.mark.parametrize(
    ("event", "level"),
    [
        ("login", logging.INFO),
        ("register", logging.INFO),
        ("password-changed", logging.INFO),
        ("account-deleted", logging.INFO),
        ("login-failed", logging.WARNING),
        ("password-change-failed", logging.WARNING),
        ("forbidden", logging.WARNING),
        ("rate-limited", logging.WARNING),
    ],
)
def test_each_audit_event_has_its_level(app, event, level):
    records = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    app.logger.addHandler(handler)
    try:
        with app.test_request_context("/x"):
            audit(event)
    finally:
        app.logger.removeHandler(handler)
    # Other threads (the database listener) may log to the same logger meanwhile.
    mine = [record for record in records if record.thread == threading.get_ident()]
    assert [(record.name, record.levelno) for record in mine] == [("flaskr.audit", level)]


def test_an_audit_line_is_the_event_then_key_value_fields(app):
    assert (
        _audited(app, "login-failed", username="alice")
        == "security login-failed username=alice user_id=- ip=203.0.113.9"
    )
    assert (
        _audited(app, "forbidden", user={"id": 7}, post_id=3)
        == "security forbidden post_id=3 user_id=7 ip=203.0.113.9"
    )
    # A field the caller gives wins over the signed-in user's.
    assert (
        _audited(app, "login", user={"id": 7}, user_id=8, ip=None)
        == "security login user_id=8 ip=-"
    )


@pytest.mark.parametrize(
    "value",
    [
        "mallory ip=198.51.100.1 user_id=1",
        'eve" user_id="1',
        '"mallory',
        'x\\" ip="198.51.100.1',
        "back\\slash\\",
        "a=b",
        "two\nlines\r\nsecurity login user_id=1",
        "tab\tand\x1bescape",
        "\u00e9v\u00e9 \u2028\u00a0",
    ],
)
def test_no_value_can_forge_a_field_or_a_line(app, value):
    message = _audited(app, "login-failed", username=value)
    assert "\n" not in message and "\r" not in message
    assert message.isascii()
    event, fields = _fields(message)
    assert event == "login-failed"
    assert fields == {"username": value, "user_id": "-", "ip": "203.0.113.9"}


# --- fetch metadata ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "own"),
    [
        ({}, True),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
        ({"Sec-Fetch-Site": "none"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Mode": "navigate"}, True),
        ({"Sec-Fetch-Mode": "no-cors"}, False),
        ({"Sec-Fetch-Mode": "cors"}, False),
        ({"Sec-Fetch-Dest": "document"}, True),
        ({"Sec-Fetch-Dest": "image"}, False),
        ({"Sec-Fetch-Dest": "iframe"}, False),
        (
            {
                "Sec-Fetch-Site": "same-origin",
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "document",
            },
            True,
        ),
    ],
)
def test_each_fetch_metadata_header_alone_can_say_a_request_is_no_navigation_here(
    app, headers, own
):
    with app.test_request_context("/auth/logout", headers=headers):
        assert is_own_navigation() is own
