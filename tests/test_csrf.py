"""CSRF: every state-changing request needs the session's token; GET changes nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from flaskr.db import connection

PW = "a long enough pw"

#: Values for URL parameters when a test visits every rule.
URL_VALUES = {
    "post_id": 1,
    "media_id": 1,
    "user_id": 1,
    "invite_id": 1,
    "message_id": 1,
    "comment_id": 1,
    "version": 1,
    "chunk": 1,
    "slug": "hello",
    "kind": "atom",
    "year": 2026,
    "month": 1,
}


#: The one form without a token, and why: the theme buttons sit on pages kept for
#: every anonymous reader, which carry none; the view refuses requests the browser
#: says came from another site instead (test_appearance.py).
CSRF_EXEMPT = {
    "appearance.choose_theme": "/theme",
    # A mail program's one-click unsubscribe (RFC 8058) has no session and no token: the
    # signed link itself names the one account and kind of email it stops
    # (test_notifications.py).
    "notifications.unsubscribe": "/unsubscribe/<token>",
}


def _post_rules(app) -> list:
    """Every rule of the app that accepts POST and checks a CSRF token."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint not in CSRF_EXEMPT
    ]


def test_only_the_listed_views_skip_the_csrf_check(csrf_app):
    from flaskr.extensions import csrf

    exempt = {
        endpoint
        for endpoint, view in csrf_app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    }
    assert exempt == set(CSRF_EXEMPT)


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
                if any(f'action="{action}"' in form for action in CSRF_EXEMPT.values()):
                    continue
                assert 'name="csrf_token"' in form, (path, form)


def _snapshot(app) -> dict[str, int]:
    """Row counts of every table flaskr defines."""
    from flaskr.db import metadata

    with app.app_context():
        conn = connection()
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in metadata.sorted_tables
            # Full-text tables exist on one database each.
            if table.info.get("dialect", conn.dialect.name) == conn.dialect.name
        }


def test_get_requests_change_nothing_but_the_tutorial_logout(
    app, client, auth, make_user, make_post
):
    # An admin: the admin area's pages are visited too.
    alice = make_user("alice", PW, role="admin")
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
    adapter = app.url_map.bind("localhost")
    for rule in _post_rules(app):
        if "GET" not in (rule.methods or ()):
            path = _url(rule)
            try:
                served_by = adapter.match(path, method="GET")[0]
            except HTTPException:
                served_by = None
            # The address read as another page: /1/delete as post 1's slug (a redirect to
            # its address), /media/ as the picture library (POST uploads); the snapshot
            # below says nothing changed. Else only 405.
            expected = (405,) if served_by in (None, rule.endpoint) else (200, 301)
            assert client.get(path).status_code in expected, rule.rule
    assert _snapshot(app) == before
