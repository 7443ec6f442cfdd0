"""Who may register: the REGISTRATION setting and invitation links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.auth.tables import user
from flaskr.db import connection, utcnow
from flaskr.invites.tables import invite

PW = "a long enough pw"


def _accounts(app) -> dict[str, str]:
    with app.app_context():
        return dict(connection().execute(sa.select(user.c.username, user.c.role)).all())


def _make_invite(app, client, role: str = "", days: str = "7") -> str:
    """An admin makes an invitation on the admin page; the token in its link."""
    page = client.post("/admin/invites", data={"role": role, "days": days})
    assert page.status_code == 200, page.text
    found = re.search(r'value="http://localhost/auth/register\?invite=([\w-]+)"', page.text)
    assert found, page.text
    return found.group(1)


@pytest.fixture
def admin_client(app, make_user):
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    return client


def _register(app, name: str, token: str = ""):
    data = {"username": name, "password": PW}
    if token:
        data["invite"] = token
    return app.test_client().post("/auth/register", data=data)


# --- the setting ----------------------------------------------------------------------


def test_an_open_site_lets_anyone_register_as_the_tutorial_does(app):
    assert _register(app, "walt").headers["Location"] == "/auth/login"
    assert _accounts(app) == {"walt": "author"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_closed_site_registers_nobody_and_says_so(make_app, method):
    app = make_app(REGISTRATION="closed")
    client = app.test_client()
    response = client.open(
        "/auth/register", method=method, data={"username": "walt", "password": PW}
    )
    assert response.status_code == 403
    assert "Registration is closed on this site." in response.text
    assert 'name="username"' not in response.text
    assert _accounts(app) == {}
    assert 'href="/auth/register"' not in client.get("/").text  # not offered either


def test_an_invite_only_site_refuses_a_visitor_without_a_link(make_app):
    app = make_app(REGISTRATION="invite")
    page = app.test_client().get("/auth/register")
    assert page.status_code == 403 and "by invitation only" in page.text
    assert _register(app, "walt").status_code == 403
    assert _accounts(app) == {}


@pytest.mark.parametrize("mode", ["Open", "members", ""])
def test_a_registration_setting_that_is_not_one_stops_the_start(make_app, mode):
    from flaskr.config import ConfigError

    with pytest.raises(ConfigError, match="REGISTRATION"):
        make_app(REGISTRATION=mode)


# --- invitations --------------------------------------------------------------------


def test_an_invitation_lets_one_person_register_with_its_role(make_app, make_user):
    app = make_app(REGISTRATION="invite")
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    token = _make_invite(app, client, role="editor")
    page = app.test_client().get(f"/auth/register?invite={token}")
    assert page.status_code == 200 and f'name="invite" value="{token}"' in page.text
    assert _register(app, "ed", token).headers["Location"] == "/auth/login"
    assert _accounts(app)["ed"] == "editor"
    # Single use: the same link again lets nobody else in.
    again = _register(app, "eve", token)
    assert again.status_code == 403 and "cannot be used" in again.text
    assert "eve" not in _accounts(app)
    listed = client.get("/admin/invites").text
    assert "Used (ed)" in listed


def test_only_the_hash_of_an_invitation_is_stored(app, admin_client):
    token = _make_invite(app, admin_client)
    with app.app_context():
        stored = connection().execute(sa.select(invite.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    assert token not in admin_client.get("/admin/invites").text  # shown once, when made


def test_an_expired_or_withdrawn_invitation_lets_nobody_in(app, admin_client):
    expired = _make_invite(app, admin_client)
    withdrawn = _make_invite(app, admin_client)
    with app.app_context(), connection().begin():
        connection().execute(
            sa.update(invite)
            .where(invite.c.id == 1)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    page = admin_client.get("/admin/invites").text
    assert "Expired" in page
    assert admin_client.post("/admin/invites/2/revoke").status_code == 302
    assert "Withdrawn" in admin_client.get("/admin/invites").text
    for token in (expired, withdrawn, "made-up-token", "x" * 500):
        response = _register(app, "walt", token)
        assert response.status_code == 403, token
        assert "cannot be used" in response.text
    assert "walt" not in _accounts(app)


def test_a_used_invitation_cannot_be_withdrawn(app, admin_client):
    token = _make_invite(app, admin_client)
    _register(app, "walt", token)
    admin_client.post("/admin/invites/1/revoke")
    assert "Used (walt)" in admin_client.get("/admin/invites").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"role": "owner", "days": "7"}, "Choose a role from the list."),
        ({"role": "", "days": "0"}, "valid for 1 to 30 days"),
        ({"role": "", "days": "31"}, "valid for 1 to 30 days"),
        ({"role": "", "days": "seven"}, "valid for 1 to 30 days"),
    ],
)
def test_a_bad_invitation_form_is_refused_and_nothing_is_made(app, admin_client, form, message):
    page = admin_client.post("/admin/invites", data=form)
    assert page.status_code == 400 and message in page.text
    with app.app_context():
        assert connection().execute(sa.select(sa.func.count()).select_from(invite)).scalar() == 0


def test_making_and_withdrawing_invitations_is_audited(app, admin_client):
    from flaskr.admin.tables import audit_log

    _make_invite(app, admin_client, role="author")
    admin_client.post("/admin/invites/1/revoke")
    with app.app_context():
        events = connection().execute(sa.select(audit_log.c.event, audit_log.c.details)).all()
    assert [tuple(e) for e in events] == [
        ("invite-created", "role=author"),
        ("invite-revoked", "invite_id=1"),
    ]


def test_an_account_is_made_only_if_its_invitation_is_spent_on_it(app, admin_client, monkeypatch):
    # Another registration spent the invitation between the check and the insert.
    from flaskr.invites import queries

    token = _make_invite(app, admin_client)
    monkeypatch.setattr(queries, "use", lambda *args: False)
    response = _register(app, "walt", token)
    assert "cannot be used" in response.text
    assert "walt" not in _accounts(app)
