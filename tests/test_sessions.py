"""Sessions: new at login, revoked on the server, lifetimes, cookie flags; the account page."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa

from flaskr.auth import queries, services
from flaskr.db import connection, transaction, utcnow

PW = "a long enough pw"


def _set_cookie(response) -> SimpleCookie:
    """The session cookie the response sets, with its attributes."""
    headers = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert len(headers) == 1, response.headers
    return SimpleCookie(headers[0])


def _signed_in(client) -> bool:
    response = client.get("/auth/account")
    if response.status_code == 302:
        assert response.headers["Location"] == "/auth/login"
        return False
    assert response.status_code == 200
    return True


# --- sessions -------------------------------------------------------------------


def test_login_starts_a_new_session(app, client, auth, make_user):
    make_user("alice", PW)
    with client.session_transaction() as sess:
        sess["sid"] = "planted-by-an-attacker"
        sess["user_id"] = 999
        sess["leftover"] = "x"
    auth.login("alice", PW)
    with client.session_transaction() as sess:
        first = sess["sid"]
        assert first != "planted-by-an-attacker"
        assert "leftover" not in sess
    auth.logout()
    auth.login("alice", PW)
    with client.session_transaction() as sess:
        assert sess["sid"] != first


def test_cookie_captured_before_logout_is_refused_after_it(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(client)
    thief.set_cookie("session", stolen)
    assert not _signed_in(thief)


def test_get_logout_of_the_tutorial_also_ends_the_server_session(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    stolen = client.get_cookie("session").value
    assert client.get("/auth/logout").headers["Location"] == "/"
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert not _signed_in(thief)


#: What Chromium sends for requests a page makes by itself, or that another site starts.
NOT_A_NAVIGATION_HERE = {
    "an image in a post": {
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "no-cors",
        "Sec-Fetch-Dest": "image",
    },
    "a script's fetch": {
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
    },
    "a link on another site": {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
    },
    "an image on another site": {"Sec-Fetch-Site": "cross-site"},
    "a frame": {"Sec-Fetch-Dest": "iframe"},
}


@pytest.mark.parametrize("headers", NOT_A_NAVIGATION_HERE.values(), ids=NOT_A_NAVIGATION_HERE)
def test_image_load_of_logout_keeps_reader_signed_in(client, auth, make_user, headers):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.get("/auth/logout", headers=headers)
    assert response.status_code == 200
    # A page that asks instead, with a POST button that does sign out.
    page = response.get_data(as_text=True)
    assert 'method="post" action="/auth/logout"' in page and "Log Out" in page
    assert _signed_in(client)
    assert auth.logout().headers["Location"] == "/"
    assert not _signed_in(client)


@pytest.mark.parametrize(
    "headers",
    [
        {
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
        },
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        {},  # a browser without fetch metadata, or the tutorial's test client
    ],
    ids=["a link on this site", "a typed address", "no fetch metadata"],
)
def test_get_logout_by_navigation_signs_out(client, auth, make_user, headers):
    make_user("alice", PW)
    auth.login("alice", PW)
    assert client.get("/auth/logout", headers=headers).headers["Location"] == "/"
    assert not _signed_in(client)


def test_password_change_ends_other_sessions_but_not_this_one(app, make_user):
    make_user("alice", PW)
    here, there = app.test_client(), app.test_client()
    for client in (here, there):
        client.post("/auth/login", data={"username": "alice", "password": PW})
        assert _signed_in(client)
    response = here.post(
        "/auth/account/password",
        data={"current_password": PW, "new_password": "a new long password"},
    )
    assert response.headers["Location"] == "/auth/account"
    assert _signed_in(here)
    assert not _signed_in(there)
    response = there.post("/auth/login", data={"username": "alice", "password": PW})
    assert b"Incorrect password." in response.data
    response = there.post(
        "/auth/login", data={"username": "alice", "password": "a new long password"}
    )
    assert response.headers["Location"] == "/auth/account"  # where it was sent away from


def test_password_change_needs_the_current_password(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.post(
        "/auth/account/password",
        data={"current_password": "wrong", "new_password": "a new long password"},
    )
    assert response.status_code == 400
    assert b"Incorrect password." in response.data
    auth.logout()
    assert auth.login("alice", PW).headers["Location"] == "/"


def test_password_change_obeys_the_policy(make_app, make_user):
    make_user("alice", PW)
    client = make_app(PASSWORD_POLICY=True).test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})
    response = client.post(
        "/auth/account/password", data={"current_password": PW, "new_password": "short"}
    )
    assert response.status_code == 400
    assert b"at least 8 characters" in response.data


def test_disabling_a_user_ends_their_sessions(app, client, auth, make_user):
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    assert _signed_in(client)
    with app.app_context():
        services.disable_user(user_id)
    assert not _signed_in(client)
    response = auth.login("alice", PW)
    assert b"This account is disabled." in response.data


def test_disabling_a_user_deletes_their_server_sessions_only(app, make_user):
    """The sessions themselves end, not just the lookup that skips disabled accounts:
    an account enabled again does not bring back a cookie from before."""
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    with app.app_context():
        alices, bobs = services.start_session(alice), services.start_session(bob)
        services.disable_user(alice)
        rows = connection().execute(sa.text("SELECT user_id FROM user_session")).scalars()
        assert list(rows) == [bob]
        assert services.session_user(alices) is None
        with transaction():
            queries.update_disabled(alice, False)
        assert services.session_user(alices) is None
        assert services.session_user(bobs)["id"] == bob
        assert services.authenticate("alice", PW) == alice


def test_a_session_token_is_256_random_bits(app, make_user):
    alice = make_user("alice", PW)
    with app.app_context():
        tokens = {services.start_session(alice) for _ in range(3)}
    assert len(tokens) == 3
    assert [len(base64.urlsafe_b64decode(token + "=")) for token in tokens] == [32] * 3


def test_idle_sessions_expire(make_app, make_user):
    make_user("alice", PW)
    client = make_app(SESSION_IDLE_MINUTES=5).test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})
    with client.session_transaction() as sess:
        sess["seen"] -= 4 * 60
    assert _signed_in(client)  # 4 idle minutes: still in, and the timer restarts
    with client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 60
        sess["seen"] -= 6 * 60
    assert not _signed_in(client)


def test_sessions_have_an_absolute_lifetime(make_app, make_user):
    user_id = make_user("alice", PW)
    app = make_app(SESSION_MAX_DAYS=2)
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})

    def age_sessions(days: float) -> None:
        with app.app_context(), transaction() as conn:
            conn.execute(
                sa.text("UPDATE user_session SET created = :t WHERE user_id = :id"),
                {"t": utcnow() - timedelta(days=days), "id": user_id},
            )

    age_sessions(1.9)
    assert _signed_in(client)  # in use all along, so not idle
    age_sessions(2.1)
    assert not _signed_in(client)


def test_session_cookie_flags(app, client, auth, make_user):
    make_user("alice", PW)
    cookie = _set_cookie(auth.login("alice", PW))["session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    # A permanent cookie, but no longer-lived than the server-side session.
    assert cookie["expires"]
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(
        days=app.config["SESSION_MAX_DAYS"]
    )


def test_a_signed_in_readers_cookie_is_renewed_on_every_page_that_changes_nothing(
    client, auth, make_user
):
    """The cookie's own expiry slides with use (as Flask's SESSION_REFRESH_EACH_REQUEST
    does), so an active reader's browser never drops it before the server-side session ends."""
    make_user("alice", PW)
    auth.login("alice", PW)
    client.get("/")  # the flash message of the login is shown and gone
    response = client.get("/")
    assert response.status_code == 200
    assert _set_cookie(response)["session"]["expires"]


def test_session_cookie_is_secure_when_the_site_is_https(make_app, make_user):
    make_user("alice", PW)
    client = make_app(PREFERRED_URL_SCHEME="https").test_client()
    response = client.post("/auth/login", data={"username": "alice", "password": PW})
    assert _set_cookie(response)["session"]["secure"] is True


@pytest.mark.parametrize(
    ("proxy_fix", "forwarded", "secure"),
    [
        ({"x_for": 1, "x_proto": 1}, "https", True),
        ({"x_for": 1, "x_proto": 1}, "http", False),
        (None, "https", False),  # no proxy configured: the header is not trusted
    ],
)
def test_session_cookie_is_secure_behind_a_trusted_https_proxy(
    make_app, make_user, proxy_fix, forwarded, secure
):
    make_user("alice", PW)
    client = make_app(PROXY_FIX=proxy_fix).test_client()
    response = client.post(
        "/auth/login",
        data={"username": "alice", "password": PW},
        headers={"X-Forwarded-Proto": forwarded, "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.headers["Location"] == "/"
    assert bool(_set_cookie(response)["session"]["secure"]) is secure


# --- the account page -----------------------------------------------------------


def test_account_page_needs_login(client):
    response = client.get("/auth/account")
    assert response.headers["Location"] == "/auth/login"


def test_account_page_shows_both_forms(client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    page = client.get("/auth/account").get_data(as_text=True)
    assert 'action="/auth/account/password"' in page
    assert 'action="/auth/account/delete"' in page


def test_deleting_the_account_deletes_its_posts_and_sessions(
    app, client, auth, make_user, make_post
):
    alice = make_user("alice", PW)
    bob = make_user("bob", PW)
    make_post(alice, title="Alice writes")
    make_post(bob, title="Bob writes")
    auth.login("alice", PW)
    stolen = client.get_cookie("session").value
    response = client.post("/auth/account/delete", data={"password": PW})
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Your account and its posts have been deleted." in page
    assert "Alice writes" not in page and "Bob writes" in page
    with app.app_context():
        conn = connection()
        assert conn.execute(sa.text('SELECT username FROM "user"')).scalars().all() == ["bob"]
        assert conn.execute(sa.text("SELECT count(*) FROM user_session")).scalar() == 0
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert not _signed_in(thief)
    assert b"Incorrect username." in auth.login("alice", PW).data


def test_deleting_the_account_needs_the_password(app, client, auth, make_user, make_post):
    alice = make_user("alice", PW)
    make_post(alice, title="Alice writes")
    auth.login("alice", PW)
    response = client.post("/auth/account/delete", data={"password": "wrong"})
    assert response.status_code == 400
    assert b"Incorrect password." in response.data
    assert _signed_in(client)
    assert b"Alice writes" in client.get("/").data


# --- the session cookie's signing key ------------------------------------------


def test_a_new_secret_key_refuses_old_cookies_unless_kept_as_a_fallback(
    app, client, auth, make_user
):
    make_user("alice", PW)
    auth.login("alice", PW)
    assert _signed_in(client)
    old_key = app.secret_key
    # The serializer is built once per key: a changed key must give a new one.
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-of-enough-length-0123"
    assert not _signed_in(client)

    auth.login("alice", PW)
    assert _signed_in(client)
    app.secret_key = app.config["SECRET_KEY"] = "a-third-secret-key-of-enough-length-0123"
    app.config["SECRET_KEY_FALLBACKS"] = ["another-secret-key-of-enough-length-0123"]
    assert _signed_in(client)
    assert old_key != app.secret_key


def test_anonymous_pages_set_no_cookie_but_vary_on_it(client):
    for path in ("/", "/hello", "/tags"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" in response.headers.get("Vary", ""), path


def test_a_session_emptied_by_the_view_deletes_its_cookie(app, client, auth, make_user):
    from flask import session

    from flaskr.policy import public

    def forget() -> str:
        session.clear()
        return "forgotten"

    app.add_url_rule("/forget", "forget", public(forget))
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.get("/forget")
    deleted = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert len(deleted) == 1 and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert "Cookie" in response.headers["Vary"]
