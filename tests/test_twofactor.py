"""Two-factor login: enrolling, signing in with a code or a recovery code, replay,
turning it off, the site requiring it of editors and admins, the operator's reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from flaskr.db import connection

PW = "a long enough pw"


def _secret(client) -> str:
    page = client.get("/auth/2fa/setup").get_data(as_text=True)
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert match, page
    assert "<svg" in page and 'role="img"' in page  # the QR code, inline
    return match.group(1)


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def _login(client, name="alice", password=PW):
    return client.post("/auth/login", data={"username": name, "password": password})


def _enrol(client) -> tuple[str, list[str]]:
    """Turn two-factor login on for the signed-in client; (secret, recovery codes)."""
    secret = _secret(client)
    response = client.post("/auth/2fa/setup", data={"code": _code(secret), "password": PW})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", response.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def _signed_in(client) -> bool:
    return client.get("/auth/account").status_code == 200


@pytest.fixture
def alice(make_user):
    return make_user("alice", PW)


def test_enrolling_needs_a_code_from_the_app_and_the_password(app, client, alice):
    _login(client)
    secret = _secret(client)
    assert _secret(client) == secret  # the same key until it is confirmed
    wrong = client.post("/auth/2fa/setup", data={"code": "000000", "password": PW})
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.text
    bad_password = client.post(
        "/auth/2fa/setup", data={"code": _code(secret), "password": "not it"}
    )
    assert bad_password.status_code == 400
    assert "Incorrect password." in bad_password.text
    with app.app_context():
        from flaskr.twofactor import services

        assert not services.is_enabled(alice)
    _enrol(client)
    with app.app_context():
        assert services.is_enabled(alice)
        # The codes are stored hashed, never as shown.
        stored = connection().execute(sa.text("SELECT code_hash FROM recovery_code")).scalars()
        assert all(len(h) == 64 and "-" not in h for h in stored)
    page = client.get("/auth/2fa/setup").text
    assert "You have 10 recovery codes left." in page
    assert "<svg" not in page  # no new key is offered while it is on


def test_signing_in_asks_for_a_code_after_the_password(app, client, alice):
    _login(client)
    secret, _codes = _enrol(client)
    client.post("/auth/logout")
    response = _login(client)
    assert response.headers["Location"] == "/auth/2fa"
    assert not _signed_in(client)  # the password alone signs nobody in
    response = client.post("/auth/2fa", data={"code": "123456"})
    assert response.status_code == 400
    assert not _signed_in(client)
    code = _code(secret, offset_steps=1)  # a clock a step ahead is allowed
    response = client.post("/auth/2fa", data={"code": code})
    assert response.status_code == 302
    assert _signed_in(client)
    # The same code again (someone who saw it): refused, as is an older step's.
    other = app.test_client()
    _login(other)
    assert other.post("/auth/2fa", data={"code": code}).status_code == 400
    assert other.post("/auth/2fa", data={"code": _code(secret)}).status_code == 400
    assert not _signed_in(other)


def test_a_recovery_code_signs_in_once(app, client, alice):
    _login(client)
    _secret_key, codes = _enrol(client)
    client.post("/auth/logout")
    _login(client)
    response = client.post(
        "/auth/2fa", data={"code": codes[3].upper().replace("-", " ")}, follow_redirects=True
    )
    assert "You used a recovery code: 9 left." in response.text
    assert _signed_in(client)
    client.post("/auth/logout")
    _login(client)
    assert client.post("/auth/2fa", data={"code": codes[3]}).status_code == 400
    assert not _signed_in(client)


def test_the_second_step_expires_and_cannot_be_reached_without_the_password(
    app, client, alice, monkeypatch
):
    response = client.get("/auth/2fa")
    assert response.status_code == 400 and "after your password" in response.text
    _login(client)
    secret, _codes = _enrol(client)
    client.post("/auth/logout")
    _login(client)
    from flaskr.twofactor import views

    monkeypatch.setattr(views, "PENDING_SECONDS", -1)
    response = client.post("/auth/2fa", data={"code": _code(secret)})
    assert response.status_code == 400 and "within five minutes" in response.text
    assert not _signed_in(client)


def test_turning_it_off_needs_the_password_and_a_code(app, client, alice):
    _login(client)
    secret, _codes = _enrol(client)
    response = client.post(
        "/auth/2fa/disable", data={"password": PW, "code": "000000"}, follow_redirects=True
    )
    assert "That code is not right." in response.text
    response = client.post(
        "/auth/2fa/disable",
        data={"password": "not it", "code": _code(secret, 1)},
        follow_redirects=True,
    )
    assert "Incorrect password." in response.text
    # Enrolling spent this step's code: the next step's is needed (or a recovery code).
    response = client.post(
        "/auth/2fa/disable", data={"password": PW, "code": _code(secret)}, follow_redirects=True
    )
    assert "That code is not right." in response.text
    response = client.post(
        "/auth/2fa/disable", data={"password": PW, "code": _code(secret, 1)}, follow_redirects=True
    )
    assert "Two-factor login is off." in response.text
    client.post("/auth/logout")
    assert _login(client).headers["Location"] == "/"  # the password is enough again
    with app.app_context():
        assert connection().execute(sa.text("SELECT count(*) FROM recovery_code")).scalar() == 0


def test_new_recovery_codes_replace_the_old(app, client, alice):
    _login(client)
    _secret_key, old = _enrol(client)
    response = client.post("/auth/2fa/codes", data={"password": PW})
    new = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", response.text)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/auth/logout")
    _login(client)
    assert client.post("/auth/2fa", data={"code": old[0]}).status_code == 400
    assert client.post("/auth/2fa", data={"code": new[0]}).status_code == 302
    wrong = client.post("/auth/2fa/codes", data={"password": "nope"}, follow_redirects=True)
    assert "Incorrect password." in wrong.text


def test_the_site_can_require_it_of_editors_and_admins(make_app, make_user):
    app = make_app(TWO_FACTOR="staff")
    make_user("ed", PW, role="editor")
    make_user("rita", PW, role="reader")
    editor, reader = app.test_client(), app.test_client()
    _login(editor, "ed")
    _login(reader, "rita")
    assert reader.get("/auth/account").status_code == 200  # readers may choose
    # Before anything else, the editor is asked to enrol.
    for path in ("/", "/admin/posts", "/auth/account", "/create"):
        response = editor.get(path)
        assert response.headers["Location"] == "/auth/2fa/setup", path
    assert editor.post("/create", data={"title": "x", "body": "y"}).status_code == 302
    page = editor.get("/auth/2fa/setup", follow_redirects=True).text
    assert "requires two-factor login for your role" in page
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    editor.post("/auth/2fa/setup", data={"code": _code(secret), "password": PW})
    assert editor.get("/admin/posts").status_code == 200
    # It stays on.
    response = editor.post(
        "/auth/2fa/disable", data={"password": PW, "code": _code(secret, 1)}, follow_redirects=True
    )
    assert "it stays on" in response.text
    assert editor.get("/admin/posts").status_code == 200


def test_the_setting_is_checked_at_start(make_app):
    from flaskr.config import ConfigError

    with pytest.raises(ConfigError, match="TWO_FACTOR must be one of"):
        make_app(TWO_FACTOR="always")


def test_an_operator_turns_it_off_for_a_lost_phone(app, client, alice):
    _login(client)
    _enrol(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-2fa", "alice"])
    assert "Turned two-factor login off for 'alice'." in result.output
    again = runner.invoke(args=["reset-2fa", "alice"])
    assert again.exit_code != 0 and "does not use two-factor login" in again.output
    client.post("/auth/logout")
    assert _login(client).headers["Location"] == "/"


def test_every_change_is_audited(app, client, alice):
    _login(client)
    secret, _codes = _enrol(client)
    response = client.post("/auth/2fa/codes", data={"password": PW})
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", response.text)
    client.post("/auth/logout")
    _login(client)
    client.post("/auth/2fa", data={"code": "999999"})
    client.post("/auth/2fa", data={"code": _code(secret, 1)})
    client.post("/auth/2fa/disable", data={"password": PW, "code": codes[0]})
    with app.app_context():
        events = [
            row.event
            for row in connection().execute(sa.text("SELECT event FROM audit_log ORDER BY id"))
        ]
    assert events == ["2fa-enabled", "2fa-codes-renewed", "login-failed", "2fa-disabled"]


def test_second_step_attempts_are_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    make_user("alice", PW)
    client = app.test_client()
    _login(client)
    secret, _codes = _enrol(client)
    client.post("/auth/logout")
    _login(client)
    statuses = [client.post("/auth/2fa", data={"code": "000000"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    # The right code is refused too while the limit holds.
    assert client.post("/auth/2fa", data={"code": _code(secret)}).status_code == 429
