"""Site settings edited in the admin area: stored, applied everywhere, operator's win."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr.db import connection
from flaskr.settings import services
from flaskr.settings.tables import site_setting

PW = "a long enough pw"


@pytest.fixture
def admin(app, make_user):
    """A signed-in admin's client."""
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    return client


def _stored(app) -> dict[str, str]:
    with app.app_context():
        rows = connection().execute(sa.select(site_setting.c.name, site_setting.c.value))
        return dict(rows.all())


def _title(page) -> str:
    return page.text.split("<title>", 1)[1].split("</title>", 1)[0]


def test_the_page_shows_every_setting_with_its_value(admin):
    page = admin.get("/admin/settings")
    assert page.status_code == 200
    for name in ("SITE_NAME", "SITE_DESCRIPTION", "LANGUAGE", "TIMEZONE", "REGISTRATION"):
        assert f'name="{name}"' in page.text, name
    assert 'name="SITE_NAME" id="setting-SITE_NAME" value="Flaskr"' in page.text


def test_a_new_site_name_shows_on_every_page_at_once_kept_pages_too(app, admin):
    reader = app.test_client()
    assert _title(reader.get("/")) == "Posts - Flaskr"  # now kept by the page cache
    response = admin.post("/admin/settings", data={"SITE_NAME": "Harbour Notes"})
    assert response.status_code == 302
    assert "Settings saved." in admin.get("/admin/settings").text
    assert _title(reader.get("/")) == "Posts - Harbour Notes"
    assert "<title>Harbour Notes (Atom)" in reader.get("/feed.atom").text.replace(
        "<title>Harbour Notes</title>", "<title>Harbour Notes (Atom)"
    )
    assert _stored(app) == {"SITE_NAME": "Harbour Notes"}


def test_another_process_applies_a_change_before_it_makes_or_serves_a_kept_page(
    app, admin, make_app
):
    other = make_app()  # a second worker on the same database
    reader = other.test_client()
    assert _title(reader.get("/")) == "Posts - Flaskr"
    admin.post("/admin/settings", data={"SITE_NAME": "Harbour Notes"})
    assert _title(reader.get("/")) == "Posts - Harbour Notes"


def test_another_process_applies_a_change_to_signed_in_pages_within_a_second(
    app, admin, make_app, make_user, monkeypatch
):
    other = make_app()
    make_user("bob", PW)
    bob = other.test_client()
    bob.post("/auth/login", data={"username": "bob", "password": PW})
    assert _title(bob.get("/auth/account")) == "Your account - Flaskr"
    admin.post("/admin/settings", data={"SITE_NAME": "Harbour Notes"})
    monkeypatch.setattr(services, "CHECK_EVERY", 0.0)  # the second has passed
    assert _title(bob.get("/auth/account")) == "Your account - Harbour Notes"


def test_the_site_language_and_registration_follow_the_page(app, admin):
    admin.post("/admin/settings", data={"LANGUAGE": "de", "REGISTRATION": "closed"})
    visitor = app.test_client()
    page = visitor.get("/")
    assert '<html lang="de"' in page.text and "Noch keine Beiträge." in page.text
    assert visitor.get("/auth/register").status_code == 403
    assert 'xml:lang="de"' in visitor.get("/feed.atom").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"SITE_NAME": "", "SITE_DESCRIPTION": "New"}, "is required"),
        ({"LANGUAGE": "fr", "SITE_DESCRIPTION": "New"}, "Choose a value from the list."),
        ({"TIMEZONE": "Mars/Olympus", "SITE_DESCRIPTION": "New"}, "Choose a time zone"),
        ({"REGISTRATION": "everyone", "SITE_DESCRIPTION": "New"}, "Choose a value"),
        ({"DEFAULT_ROLE": "admin", "SITE_DESCRIPTION": "New"}, "Choose a value"),
        ({"SITE_NAME": "x" * 101}, "Site name"),
    ],
)
def test_a_value_flaskr_cannot_use_is_refused_and_nothing_is_stored(app, admin, form, message):
    page = admin.post("/admin/settings", data=form)
    assert page.status_code == 400 and message in page.text
    assert _stored(app) == {}
    assert app.config["SITE_DESCRIPTION"] == "A blog"


def test_settings_the_server_sets_are_shown_and_never_changed_here(make_app, make_user):
    app = make_app(SITE_NAME="Operations Blog")
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    page = client.get("/admin/settings").text
    assert "Operations Blog" in page and "(set by the server's configuration)" in page
    assert 'name="SITE_NAME"' not in page
    client.post("/admin/settings", data={"SITE_NAME": "Hijacked"})
    assert _stored(app) == {} and "Operations Blog" in client.get("/").text


def test_a_stored_value_flaskr_cannot_use_is_ignored(app, admin):
    # Written by hand (plain SQL): the default applies, and pages still work.
    with app.app_context(), connection().begin():
        connection().execute(
            sa.insert(site_setting).values(name="LANGUAGE", value="xx", updated_at=sa.func.now())
        )
    page = app.test_client().get("/")
    assert page.status_code == 200 and '<html lang="en"' in page.text


def test_a_change_is_audited_with_the_names_of_what_changed(app, admin):
    from flaskr.admin.tables import audit_log

    admin.post("/admin/settings", data={"SITE_NAME": "Flaskr", "SITE_DESCRIPTION": "Boats"})
    admin.post("/admin/settings", data={"SITE_DESCRIPTION": "Boats"})  # no change: no entry
    with app.app_context():
        rows = connection().execute(sa.select(audit_log.c.event, audit_log.c.details)).all()
    assert [tuple(row) for row in rows] == [("settings-changed", "names=SITE_DESCRIPTION")]
