"""Security baseline: CSRF, headers, hosts, redirects, input rules, the audit log."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from flask.logging import default_handler

from flaskr.auth.tables import USERNAME_MAX
from flaskr.blog.tables import BODY_MAX, TITLE_MAX
from flaskr.db import connection
from flaskr.security import CSP, safe_path

PW = "a long enough pw"

#: Values for URL parameters when a test visits every rule.
URL_VALUES = {"post_id": 1, "version": 1, "chunk": 1, "slug": "hello", "kind": "atom"}


def _post_rules(app) -> list:
    """Every rule of the app that accepts POST."""
    return [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]


def _url(rule) -> str:
    """A concrete path for a rule, with placeholder arguments."""
    values = {name: URL_VALUES.get(name, "x") for name in rule.arguments}
    return rule.build(values)[1]


def _db_count(app, table: str) -> int:
    with app.app_context():
        return connection().execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()


def _in_layout(response) -> str:
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert 'class="site-nav"' in page, page
    return page


# --- CSRF -------------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app):
    """An app with CSRF checks on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_client(csrf_app, make_user, make_post):
    """A signed-in client (via a real, token-carrying login) who wrote post 1."""
    alice = make_user("alice", PW)
    make_post(alice, title="Hello")
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").text)
    response = client.post(
        "/auth/login", data={"username": "alice", "password": PW, "csrf_token": token.group(1)}
    )
    assert response.headers["Location"] == "/"
    return client


def test_csrf_is_off_under_testing_unless_set(app):
    assert app.config["WTF_CSRF_ENABLED"] is False


def test_every_post_rule_refuses_a_missing_csrf_token(csrf_app, csrf_client):
    rules = _post_rules(csrf_app)
    assert len(rules) >= 8
    for rule in rules:
        response = csrf_client.post(_url(rule), data={"title": "t", "body": "b", "password": PW})
        assert response.status_code == 400, rule.rule
        page = _in_layout(response)
        assert "The CSRF token is missing." in page, rule.rule
    # Nothing changed: the post and the account are still there, still signed in.
    assert _db_count(csrf_app, "post") == 1
    assert _db_count(csrf_app, "user") == 1
    assert csrf_client.get("/auth/account").status_code == 200


def test_every_post_rule_refuses_a_foreign_csrf_token(csrf_app, csrf_client, csrf_token):
    stranger = csrf_app.test_client()
    foreign = csrf_token(stranger, "/auth/login")
    assert csrf_token(csrf_client, "/create") != foreign  # this session has its own
    for rule in _post_rules(csrf_app):
        response = csrf_client.post(
            _url(rule), data={"title": "t", "body": "b", "password": PW, "csrf_token": foreign}
        )
        assert response.status_code == 400, rule.rule
        assert "The CSRF tokens do not match." in _in_layout(response)
    assert _db_count(csrf_app, "post") == 1


def test_a_valid_csrf_token_is_accepted(csrf_app, csrf_client, csrf_token):
    token = csrf_token(csrf_client, "/create")
    response = csrf_client.post(
        "/create", data={"title": "With token", "body": "b", "csrf_token": token}
    )
    assert response.status_code == 302
    assert _db_count(csrf_app, "post") == 2


def test_every_post_form_carries_a_csrf_token(csrf_client):
    for path in ("/auth/login", "/auth/register", "/create", "/1/update", "/auth/account", "/"):
        page = csrf_client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*>.*?</form>", page, re.S | re.I)
        for form in forms:
            if re.search(r'method="post"', form, re.I):
                assert 'name="csrf_token"' in form, (path, form)


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


def test_logged_in_pages_are_not_cached(client, auth, make_user, make_post):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    user_id = make_user("alice", PW)
    make_post(user_id)
    auth.login("alice", PW)
    for path in ("/", "/create", "/auth/account", "/1/update", "/1/hello"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path


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
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\tevil",
    "\\\\evil.example",
    "",
    None,
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_safe_path_refuses_other_sites(target):
    assert safe_path(target) == "/"


@pytest.mark.parametrize("target", ["/", "/create", "/1/update", "/search?q=a%20b", "/tag/x"])
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


# --- input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "char"),
    # Every text field, each with another kind of control character (C0, ESC, DEL, C1).
    [
        ("/auth/register", "username", "\x00"),
        ("/auth/register", "password", "\x01"),
        ("/auth/login", "username", "\x1b"),
        ("/auth/login", "password", "\x00"),
        ("/create", "title", "\x7f"),
        ("/create", "body", "\x00"),
        ("/create", "tags", "\x85"),
        ("/1/update", "title", "\x00"),
        ("/1/update", "body", "\x9b"),
        ("/auth/account/password", "current_password", "\x08"),
        ("/auth/account/password", "new_password", "\x00"),
        ("/auth/account/delete", "password", "\x0c"),
        ("/account/profile", "bio", "\x00"),
        ("/account/profile", "timezone", "\x1f"),
    ],
)
def test_control_characters_in_any_text_field_are_a_400(
    app, client, auth, make_user, make_post, path, field, char
):
    user_id = make_user("alice", PW)
    make_post(user_id, title="Original")
    auth.login("alice", PW)
    data = {
        "username": "bob",
        "password": PW,
        "title": "T",
        "body": "B",
        "current_password": PW,
        "new_password": "another long pw",
        "bio": "b",
        field: f"a{char}b",
    }
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)
    assert _db_count(app, "user") == 1
    assert _db_count(app, "post") == 1
    assert client.get("/auth/account").status_code == 200


def test_newlines_and_tabs_are_fine_in_a_body(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.post("/create", data={"title": "Lines", "body": "one\n\ttwo\r\nthree"})
    assert response.status_code == 302
    with app.app_context():
        body = connection().execute(sa.text("SELECT body FROM post")).scalar()
    assert body.replace("\r\n", "\n") == "one\n\ttwo\nthree"


def test_newline_in_a_title_is_refused(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.post("/create", data={"title": "two\nlines", "body": "b"})
    assert b"Title contains characters that are not allowed." in response.data
    assert _db_count(app, "post") == 0


@pytest.mark.parametrize(
    ("path", "field", "limit", "message"),
    [
        ("/auth/register", "username", USERNAME_MAX, "Username is too long"),
        ("/create", "title", TITLE_MAX, "Title is too long"),
        ("/create", "body", BODY_MAX, "Body is too long"),
    ],
)
def test_length_limits(app, client, auth, make_user, path, field, limit, message):
    make_user("alice", PW)
    auth.login("alice", PW)
    data = {"username": "bob", "password": PW, "title": "T", "body": "B"}
    response = client.post(path, data={**data, field: "x" * (limit + 1)})
    assert message in response.get_data(as_text=True)
    assert _db_count(app, "user") == 1 and _db_count(app, "post") == 0
    response = client.post(path, data={**data, field: "x" * limit})
    assert response.status_code == 302


def test_too_large_a_request_is_a_413_page(make_app):
    client = make_app(MAX_CONTENT_LENGTH=2000).test_client()
    response = client.post("/auth/login", data={"username": "a", "password": "x" * 5000})
    assert response.status_code == 413
    assert "413" in _in_layout(response)


def test_default_request_limit_is_set(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > BODY_MAX * 4  # a full body, UTF-8 encoded


# --- audit log --------------------------------------------------------------------


def _audit_lines(caplog) -> list[str]:
    """The security log lines, formatted as the app's log handler writes them."""
    return [
        default_handler.formatter.format(record)
        for record in caplog.records
        if record.getMessage().startswith("security ")
    ]


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


def _snapshot(app) -> dict[str, int]:
    """Row counts of every table flaskr defines."""
    from flaskr.db import metadata

    with app.app_context():
        conn = connection()
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in metadata.sorted_tables
        }


def test_get_requests_change_nothing_but_the_tutorial_logout(app, client, auth, make_user,
                                                            make_post):
    alice = make_user("alice", PW)
    make_post(alice, title="Hello", tags="x")
    auth.login("alice", PW)
    values = {**URL_VALUES, "username": "alice", "name": "x"}
    before = _snapshot(app)
    assert before["user_session"] == 1
    visited = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "auth.logout"):
            continue
        path = rule.build({name: values.get(name, "x") for name in rule.arguments})[1]
        for method in (client.get, client.head):
            response = method(path)
            response.close()
            assert response.status_code < 500, path
        visited += 1
    assert visited >= 10
    for rule in _post_rules(app):
        if "GET" not in (rule.methods or ()):
            # 405, or /1/delete read as the post's slug and redirected to its address.
            assert client.get(_url(rule)).status_code in (301, 405), rule.rule
    assert _snapshot(app) == before


def test_control_characters_in_the_path_are_a_400(client):
    response = client.get("/tag/a%01b")
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)
