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
        ({"COMMENTS_GUESTS": "yes", "SITE_DESCRIPTION": "New"}, "Choose a value"),
        ({"COMMENTS_MAX_LINKS": "", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),
        ({"COMMENTS_MAX_LINKS": "two", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),
        ({"COMMENTS_MAX_LINKS": "-1", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),
        ({"COMMENTS_MAX_LINKS": "101", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),
        ({"COMMENTS_MAX_LINKS": "1.5", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),
        ({"COMMENTS_MAX_LINKS": "٣", "SITE_DESCRIPTION": "New"}, "from 0 to 100."),  # Arabic 3
        ({"COMMENTS_CLOSE_AFTER_DAYS": "9" * 5000}, "from 0 to 36500."),
        ({"COMMENTS_BANNED_WORDS": "x" * 2001}, "Words that hold a comment"),
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


# --- comments -------------------------------------------------------------------


def _stamp(app, post_id: int) -> str:
    import time

    from flaskr.comments.screening import form_stamp

    with app.app_context():
        return form_stamp(post_id, at=time.time() - 60)


def test_the_comment_settings_are_a_section_of_the_page(admin):
    page = admin.get("/admin/settings").text
    section = page.split("<legend>Comments</legend>", 1)[1].split("</fieldset>", 1)[0]
    comment_settings = [s.name for s in services.SETTINGS if s.group == "comments"]
    assert len(comment_settings) == 7
    for name in comment_settings:
        assert name.startswith("COMMENTS_") and f'name="{name}"' in section, name
    assert '<option value="off" selected>Off</option>' in section  # guests: off by default
    assert 'name="COMMENTS_MAX_LINKS" id="setting-COMMENTS_MAX_LINKS" value="2"' in section


def test_guest_comments_turned_on_and_off_here_change_kept_pages_at_once(
    app, admin, make_user, make_post
):
    post_id = make_post(make_user("alice", PW, role="author"), "Open to all", "Hi")
    visitor = app.test_client()
    url = f"/{post_id}/open-to-all"
    assert "Comment as a guest" not in visitor.get(url).text
    assert app.extensions["flaskr.pagecache"].entries  # now a kept page
    assert admin.post("/admin/settings", data={"COMMENTS_GUESTS": "on"}).status_code == 302
    assert app.config["COMMENTS_GUESTS"] is True and _stored(app) == {"COMMENTS_GUESTS": "on"}
    assert "Comment as a guest" in visitor.get(url).text
    assert visitor.get(f"/{post_id}/comments/guest").status_code == 200
    admin.post("/admin/settings", data={"COMMENTS_GUESTS": "off"})
    assert app.config["COMMENTS_GUESTS"] is False
    assert "Comment as a guest" not in visitor.get(url).text
    assert visitor.get(f"/{post_id}/comments/guest").status_code == 404


def test_another_process_applies_the_comment_rules_as_numbers_and_switches(
    app, admin, make_app, make_user, make_post
):
    post_id = make_post(make_user("alice", PW, role="author"), "Rules", "Hi")
    admin.post(
        "/admin/settings",
        data={
            "COMMENTS_HOLD_FIRST": "off",
            "COMMENTS_MAX_LINKS": " 0 ",
            "COMMENTS_BANNED_WORDS": "casino, cheap pills",
        },
    )
    other = make_app()  # a second worker on the same database
    make_user("rita", PW, role="reader")
    rita = other.test_client()
    rita.post("/auth/login", data={"username": "rita", "password": PW})
    for body in ("Plain words", "A [link](https://a.example)", "Cheap Pills here"):
        data = {"body": body, "stamp": _stamp(other, post_id)}
        assert rita.post(f"/{post_id}/comments", data=data).status_code == 303
    assert (other.config["COMMENTS_HOLD_FIRST"], other.config["COMMENTS_MAX_LINKS"]) == (False, 0)
    with app.app_context():
        found = (
            connection()
            .execute(sa.text("SELECT status, held_reason FROM comment ORDER BY id"))
            .all()
        )
    assert [tuple(row) for row in found] == [
        ("published", None),  # no first-comment hold: switched off
        ("held", "links"),
        ("held", "banned-words"),
    ]


def test_a_comment_setting_the_server_sets_is_shown_and_never_changed_here(make_app, make_user):
    app = make_app(COMMENTS_GUESTS=True)
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    page = client.get("/admin/settings").text
    assert "<strong>Comments from guests</strong>: On" in page
    assert 'name="COMMENTS_GUESTS"' not in page
    client.post("/admin/settings", data={"COMMENTS_GUESTS": "off"})
    assert _stored(app) == {} and app.config["COMMENTS_GUESTS"] is True


def test_comment_switches_and_numbers_the_server_sets_as_text_are_read_as_the_page_reads_them(
    make_app, monkeypatch
):
    monkeypatch.setenv("FLASKR_COMMENTS_GUESTS", "off")  # not JSON: a string
    app = make_app(COMMENTS_MAX_LINKS="03", COMMENTS_HOLD_FIRST="True")
    assert app.config["COMMENTS_GUESTS"] is False
    assert app.config["COMMENTS_HOLD_FIRST"] is True
    assert app.config["COMMENTS_MAX_LINKS"] == 3


@pytest.mark.parametrize(
    ("setting", "value"),
    [("COMMENTS_GUESTS", "yes"), ("COMMENTS_MAX_LINKS", "many"), ("COMMENTS_EDIT_MINUTES", "-5")],
)
def test_a_comment_setting_the_server_sets_that_cannot_be_read_stops_the_app(
    make_app, setting, value
):
    from flaskr.config import ConfigError

    with pytest.raises(ConfigError, match=setting):
        make_app(**{setting: value})


def test_a_fixed_setting_shows_its_value_not_what_a_refused_form_sent(make_app, make_user):
    app = make_app(COMMENTS_GUESTS=True, COMMENTS_BANNED_WORDS="open")
    make_user("ada", PW, role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    page = client.post(
        "/admin/settings", data={"COMMENTS_GUESTS": "off", "COMMENTS_MAX_LINKS": "x"}
    ).text
    assert "<strong>Comments from guests</strong>: On" in page
    # A fixed text is shown as written, not as a choice of another setting ("open to anyone").
    assert "<strong>Words that hold a comment</strong>: open <span" in page


def test_a_stored_setting_that_goes_away_returns_to_the_default(app, admin):
    admin.post("/admin/settings", data={"COMMENTS_MAX_LINKS": "9"})
    assert app.config["COMMENTS_MAX_LINKS"] == 9
    with app.app_context():
        with connection().begin():
            connection().execute(sa.delete(site_setting))
        services.ensure_current(None)  # as a worker does at the next version
    assert app.config["COMMENTS_MAX_LINKS"] == 2


def test_a_setting_never_stored_keeps_the_value_the_app_has(app, admin):
    app.config["COMMENTS_MAX_LINKS"] = 5  # as a test or the app itself set it
    admin.post("/admin/settings", data={"SITE_NAME": "Harbour Notes"})
    assert app.config["SITE_NAME"] == "Harbour Notes"
    assert app.config["COMMENTS_MAX_LINKS"] == 5
