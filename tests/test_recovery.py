"""An account's email address and a forgotten password, through the pages and the
outbox (what would be mailed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.db import connection, transaction, utcnow
from flaskr.mail import queries as mail_queries
from flaskr.recovery.tables import account_token

PW = "a long enough pw"
NEW_PW = "another long password"
LINK = re.compile(r"http://localhost(/auth/(?:confirm-email|reset)/[A-Za-z0-9_-]+)")


def _mail(app) -> list:
    """Every queued message, oldest first, bodies included."""
    with app.app_context():
        rows = mail_queries.list_messages(None, page=1, per_page=100)
        return [mail_queries.find_message(row["id"]) for row in reversed(rows)]


def _link(message) -> str:
    match = LINK.search(message["body_text"])
    assert match, message["body_text"]
    assert match.group(0) in message["body_html"]
    return match.group(1)


def _login(client, name="alice", password=PW):
    response = client.post("/auth/login", data={"username": name, "password": password})
    assert response.status_code == 302
    return response


def _set_address(app, client, address, password=PW):
    return client.post("/auth/account/email", data={"email": address, "password": password})


def _confirmed(app, client, address="alice@example.com"):
    """Give the signed-in account a confirmed address through the pages."""
    count = len(_mail(app))
    assert _set_address(app, client, address).status_code == 302
    link = _link(_mail(app)[count])
    assert client.post(link).status_code == 302


def _address(app, user_id):
    from flaskr.recovery import queries

    with app.app_context():
        return queries.find_address(user_id)


@pytest.fixture
def alice(make_user):
    return make_user("alice", PW)


def test_a_new_address_counts_once_its_link_is_followed(app, client, alice):
    _login(client)
    response = _set_address(app, client, "  Alice@Example.COM ")
    assert response.status_code == 302
    [message] = _mail(app)
    assert message["recipient"] == "Alice@example.com"
    assert message["kind"] == "verify-email"
    assert _address(app, alice) is None  # not before the link is followed
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Waiting for confirmation" in page and "Alice@example.com" in page
    link = _link(message)
    # Opening the link (as a mail scanner would) changes nothing: the button does.
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    assert "Alice@example.com" in confirm_page.get_data(as_text=True)
    assert _address(app, alice) is None
    response = client.post(link)
    assert response.status_code == 302
    assert _address(app, alice) == "Alice@example.com"
    # Used once: the link works no more.
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Waiting for confirmation" not in page


def test_changing_the_address_needs_the_password_and_a_valid_address(app, client, alice):
    _login(client)
    response = _set_address(app, client, "alice@example.com", password="wrong password")
    assert response.status_code == 400
    assert "Incorrect password." in response.get_data(as_text=True)
    for bad in ("not an address", "a@b", "x@example.com\r\nBcc: evil@example.com", "<a@b.c>"):
        response = _set_address(app, client, bad)
        assert response.status_code == 400, bad
        assert "Enter an email address such as name@example.com." in response.get_data(as_text=True)
    response = _set_address(app, client, "a" * 250 + "@example.com")
    assert response.status_code == 400
    assert _mail(app) == []


def test_the_old_address_is_told_and_only_the_newest_link_works(app, client, alice):
    _login(client)
    _confirmed(app, client, "alice@example.com")
    _set_address(app, client, "typo@exmaple.com")
    _set_address(app, client, "alice@new.example")
    messages = _mail(app)[1:]
    kinds = [(m["kind"], m["recipient"]) for m in messages]
    assert kinds == [
        ("verify-email", "typo@exmaple.com"),
        ("email-changed", "alice@example.com"),
        ("verify-email", "alice@new.example"),
        ("email-changed", "alice@example.com"),
    ]
    # The notice names the new address only in part.
    assert "a***@new.example" in messages[3]["body_text"]
    assert "alice@new.example" not in messages[3]["body_text"]
    # The first link was replaced by the second.
    assert client.post(_link(messages[0])).status_code == 400
    assert _address(app, alice) == "alice@example.com"
    assert client.post(_link(messages[2])).status_code == 302
    assert _address(app, alice) == "alice@new.example"


def test_an_address_belongs_to_one_account(app, client, alice, make_user):
    bob = make_user("bob", PW)
    _login(client)
    _confirmed(app, client, "shared@example.com")
    client.post("/auth/logout")
    _login(client, "bob")
    # Asking is allowed (the answer must not tell that the address is taken)...
    assert _set_address(app, client, "SHARED@example.com").status_code == 302
    link = _link(_mail(app)[-1])
    # ...but the link cannot take it from alice.
    response = client.post(link)
    assert response.status_code == 400
    assert "confirmed for another account" in response.get_data(as_text=True)
    assert _address(app, bob) is None
    assert _address(app, alice) == "shared@example.com"


def test_removing_the_address(app, client, alice):
    _login(client)
    response = _set_address(app, client, "")
    assert response.status_code == 400
    assert "no email address to remove" in response.get_data(as_text=True)
    _confirmed(app, client)
    assert _set_address(app, client, "").status_code == 302
    assert _address(app, alice) is None
    notice = _mail(app)[-1]
    assert (notice["kind"], notice["recipient"]) == ("email-changed", "alice@example.com")
    assert "removed" in notice["body_text"]


def test_a_confirmation_link_expires(app, client, alice):
    _login(client)
    _set_address(app, client, "alice@example.com")
    link = _link(_mail(app)[0])
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(account_token).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400
    assert _address(app, alice) is None
    # Garbage and tampered tokens get the same page, not an error.
    assert client.get("/auth/confirm-email/nonsense").status_code == 400
    assert client.post(link[:-2] + "xy").status_code == 400


def _reset_request(client, address):
    return client.post("/auth/forgot", data={"email": address})


def test_a_password_reset_by_mail(app, client, alice, make_app):
    _login(client)
    _confirmed(app, client)
    other = app.test_client()
    _login(other)  # another browser, signed in
    client.post("/auth/logout")
    response = _reset_request(client, "ALICE@example.com")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    message = _mail(app)[-1]
    assert (message["kind"], message["recipient"]) == ("password-reset", "alice@example.com")
    assert "alice" in message["body_text"]
    link = _link(message)
    page = client.get(link)
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    # The password rules hold here too (tests relax them unless asked).
    strict = make_app(PASSWORD_POLICY=True).test_client()
    response = strict.post(link, data={"password": "short"})
    assert response.status_code == 400
    assert "at least 8 characters" in response.get_data(as_text=True)
    response = client.post(link, data={"password": NEW_PW})
    assert response.status_code == 302
    follow = client.get("/auth/login").get_data(as_text=True)
    assert "Your password has been changed. You can log in now." in follow
    # Every session ended; the old password is gone; the link is spent.
    assert other.get("/auth/account").status_code == 302
    assert client.post("/auth/login", data={"username": "alice", "password": PW}).status_code == 200
    _login(client, password=NEW_PW)
    assert client.post(link, data={"password": "yet another password"}).status_code == 400
    with app.app_context():
        events = (
            connection().execute(sa.text("SELECT event, details FROM audit_log ORDER BY id")).all()
        )
    assert any(e.event == "password-reset" and "email" in e.details for e in events)
    assert any(e.event == "email-changed" for e in events)


def test_the_reset_form_says_the_same_whoever_asks(app, client, alice, make_user):
    _login(client)
    _confirmed(app, client)
    client.post("/auth/logout", follow_redirects=True)  # its flash shown and gone
    make_user("carol", PW)  # an account without an address
    answers = set()
    for address in ("alice@example.com", "nobody@example.com", "carol@example.com", "nonsense"):
        response = _reset_request(client, address)
        assert response.status_code == 302
        page = client.get("/auth/login").get_data(as_text=True)
        # The whole page, but for the form's CSRF token (signed with the time).
        answers.add(re.sub(r'name="csrf_token" value="[^"]*"', "", page))
    assert len(answers) == 1
    assert "If an account has this confirmed address" in answers.pop()
    sent = [m for m in _mail(app) if m["kind"] == "password-reset"]
    assert [m["recipient"] for m in sent] == ["alice@example.com"]
    response = _reset_request(client, "  ")
    assert response.status_code == 400


def test_a_newer_reset_link_replaces_the_older_and_links_expire(app, client, alice):
    _login(client)
    _confirmed(app, client)
    client.post("/auth/logout")
    _reset_request(client, "alice@example.com")
    _reset_request(client, "alice@example.com")
    first, second = [_link(m) for m in _mail(app) if m["kind"] == "password-reset"]
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(account_token).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.post(second, data={"password": NEW_PW}).status_code == 400


def test_a_disabled_account_gets_no_reset_link(app, client, alice):
    from flaskr.auth import services as auth_services

    _login(client)
    _confirmed(app, client)
    client.post("/auth/logout")
    _reset_request(client, "alice@example.com")
    link = _link(_mail(app)[-1])
    with app.app_context():
        auth_services.disable_user(alice)
    # Neither the link sent before nor a new request works for a disabled account.
    assert client.post(link, data={"password": NEW_PW}).status_code == 400
    count = len(_mail(app))
    _reset_request(client, "alice@example.com")
    assert len(_mail(app)) == count


def test_reset_requests_are_rate_limited_per_address(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="2 per hour")
    make_user("alice", PW)
    for number in range(2):
        client = app.test_client()
        # Another address each time: only the limit per typed address is met.
        environ = {"REMOTE_ADDR": f"192.0.2.{number + 1}"}
        response = client.post(
            "/auth/forgot", data={"email": "Victim@example.com"}, environ_base=environ
        )
        assert response.status_code == 302
    response = app.test_client().post(
        "/auth/forgot",
        data={"email": "victim@example.com"},
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )
    assert response.status_code == 429
    other = app.test_client().post(
        "/auth/forgot",
        data={"email": "other@example.com"},
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )
    assert other.status_code == 302


def test_mail_is_written_in_the_readers_language(app, client, alice):
    client.post("/auth/login", data={"username": "alice", "password": PW})
    client.post("/auth/account/profile", data={"bio": "", "timezone": "UTC", "language": "de"})
    _set_address(app, client, "alice@example.com")
    message = _mail(app)[0]
    assert "Bestätige" in message["subject"] or "bestätige" in message["body_text"].lower()
    assert 'lang="de"' in message["body_html"]
