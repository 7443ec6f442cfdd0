"""Input rules: control characters, length limits, request size, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr.auth.tables import USERNAME_MAX
from flaskr.blog.tables import BODY_MAX, TITLE_MAX
from flaskr.db import connection

PW = "a long enough pw"


def _db_count(app, table: str) -> int:
    with app.app_context():
        return connection().execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()


def _in_layout(response) -> str:
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert 'class="site-nav"' in page, page
    return page


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


#: Unicode non-characters: the two XML forbids, the block of 32, and the ends of planes 1 and 16.
NONCHARACTERS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]


@pytest.mark.parametrize("char", NONCHARACTERS)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/auth/register", "username"),
        ("/auth/register", "password"),
        ("/create", "title"),
        ("/create", "body"),
        ("/create", "tags"),
        ("/1/update", "title"),
        ("/1/update", "body"),
        ("/account/profile", "bio"),
    ],
)
def test_unicode_non_characters_in_any_text_field_are_a_400(
    app, client, auth, make_user, make_post, path, field, char
):
    user_id = make_user("alice", PW)
    make_post(user_id, title="Original", body="Original body")
    auth.login("alice", PW)
    data = {"username": "bob", "password": PW, "title": "T", "body": "B", "bio": "b"}
    data["version"] = "1"
    response = client.post(path, data={**data, field: f"a{char}b"})
    assert response.status_code == 400
    assert "The form contains characters that are not allowed." in response.get_data(as_text=True)
    assert _db_count(app, "user") == 1
    with app.app_context():
        stored = connection().execute(sa.text("SELECT title, body FROM post")).one()
    assert tuple(stored) == ("Original", "Original body")


@pytest.mark.parametrize("char", NONCHARACTERS)
def test_unicode_non_characters_in_an_address_or_query_string_are_a_400(client, char):
    encoded = "".join(f"%{byte:02X}" for byte in char.encode())
    for path in (f"/u/a{encoded}b", f"/search?q=a{encoded}b", f"/?page=1&x{encoded}=1"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "The address contains characters that are not allowed." in response.get_data(
            as_text=True
        )


@pytest.mark.parametrize("char", [*NONCHARACTERS, "\ud800", "\x00"])
def test_services_refuse_non_characters_and_lone_surrogates_too(app, make_user, char):
    """The rule lives below the HTTP layer: a future JSON API (where "\\ud800" decodes
    to a lone surrogate) gets the same answer."""
    from flaskr.blog import services
    from flaskr.validation import ValidationError

    user_id = make_user("alice", PW)
    with app.app_context():
        with pytest.raises(ValidationError, match="Title contains characters"):
            services.create_post(user_id, services.Draft(title=f"a{char}", body="b"))
        with pytest.raises(ValidationError, match="Body contains characters"):
            services.create_post(user_id, services.Draft(title="t", body=f"a{char}"))
    assert _db_count(app, "post") == 0


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
