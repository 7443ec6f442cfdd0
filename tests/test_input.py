"""Input rules: control characters, length limits, request size, on both databases."""

from __future__ import annotations

import http.client
import re

import pytest
import sqlalchemy as sa
from flask import Config
from servers import COMMANDS, servers_for
from werkzeug.datastructures import MultiDict

from flaskr.auth.tables import USERNAME_MAX
from flaskr.blog.tables import BODY_MAX, TITLE_MAX
from flaskr.db import connection
from flaskr.security import UnsizedBodyLimit

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
        ("/auth/account/profile", "bio", "\x00"),
        ("/auth/account/profile", "timezone", "\x1f"),
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
        ("/auth/account/profile", "bio"),
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


def _explanation(response) -> str:
    """The sentence an error page explains itself with."""
    match = re.search(r'<p class="error-explanation">([^<]*)</p>', _in_layout(response))
    assert match
    return match.group(1)


ADDRESS_REFUSED = "The address contains characters that are not allowed."
FORM_REFUSED = "The form contains characters that are not allowed."


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=a%00b",
        "/search?q=ok&q=%00",  # every value of a repeated key, not only the first
        "/search?q=%01&q=ok",
        "/search?q=ok&q%1b=ok",
        "/search?q=ok&q=ok&page=1&page=%7f",
        "/tag/a%01b",
        "/tag/a%01b?page=1",  # the path of an address that has a query too
    ],
)
def test_a_control_character_anywhere_in_an_address_is_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert _explanation(response) == ADDRESS_REFUSED


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
@pytest.mark.parametrize(
    "fields",
    [
        [("username", "a\x00b")],
        [("username", "alice"), ("username", "a\x00b")],  # a repeated field's every value
        [("user\x1bname", "alice")],
    ],
)
def test_a_control_character_anywhere_in_a_form_is_a_400(client, method, content_type, fields):
    """Before any view runs, on every method that sends a form, whichever way it is encoded
    (a route that does not take the method would answer 405)."""
    response = client.open(
        "/auth/login", method=method, data=MultiDict(fields), content_type=content_type
    )
    assert response.status_code == 400
    assert _explanation(response) == FORM_REFUSED


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_control_character_in_the_address_a_form_is_sent_to_is_a_400(client, method):
    response = client.open("/auth/log%01in", method=method, data={"username": "alice"})
    assert response.status_code == 400
    assert _explanation(response) == ADDRESS_REFUSED


def test_a_multipart_form_of_allowed_characters_reaches_the_view(client, make_user):
    make_user("alice", PW)
    response = client.post(
        "/auth/login",
        data={"username": "alice", "password": PW},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"] == "/"


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


# --- chunked request bodies (no Content-Length) ----------------------------------------------

#: MAX_CONTENT_LENGTH in the chunked-body tests, and a form that fills it exactly.
LIMIT = 500
PREFIX = b"username=bob&password="


def _form_of_size(size: int) -> bytes:
    return PREFIX + b"x" * (size - len(PREFIX))


def _bobs_passwords(app) -> list[str]:
    """Which password bob's account opens with: the one sent whole, a cut one, or none."""
    from flaskr.auth.passwords import verify_password

    with app.app_context():
        query = sa.text("SELECT password FROM \"user\" WHERE username = 'bob'")
        stored = connection().execute(query).scalar()
    if stored is None:
        return []
    whole = _form_of_size(LIMIT)[len(PREFIX) :].decode()
    return ["whole" if verify_password(stored, whole)[0] else "cut"]


def _chunked(client, body: bytes, **environ):
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"}
    return client.post("/auth/register", data=body, headers=headers, environ_overrides=environ)


def test_an_oversized_chunked_body_is_a_413_page_under_the_test_client(make_app):
    """With the environ a real server gives: it has de-chunked the body and ends the
    stream itself (wsgi.input_terminated), so the app reads it."""
    app = make_app(MAX_CONTENT_LENGTH=LIMIT)
    client = app.test_client()
    response = _chunked(client, _form_of_size(LIMIT + 1), **{"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert "413" in _in_layout(response)
    assert _bobs_passwords(app) == []
    response = _chunked(client, _form_of_size(LIMIT), **{"wsgi.input_terminated": True})
    assert response.status_code == 302
    assert _bobs_passwords(app) == ["whole"]


@pytest.mark.parametrize("size", [LIMIT, LIMIT + 1])
def test_a_chunked_body_whose_end_the_server_does_not_mark_is_a_411(make_app, size):
    """The test client's own environ: without wsgi.input_terminated the body can't be read
    safely, and Werkzeug used to ignore it and carry on with an empty form."""
    app = make_app(MAX_CONTENT_LENGTH=LIMIT)
    response = _chunked(app.test_client(), _form_of_size(size))
    assert response.status_code == 411
    assert "Send it with a Content-Length." in _in_layout(response)
    assert _bobs_passwords(app) == []


def test_a_body_without_any_length_is_held_to_the_limit_too(make_app):
    """An HTTP/2 request has neither Content-Length nor chunks; its server ends the stream."""
    app = make_app(MAX_CONTENT_LENGTH=LIMIT)
    client = app.test_client()
    for size, status in ((LIMIT + 1, 413), (LIMIT, 302)):
        response = client.post(
            "/auth/register",
            data=_form_of_size(size),
            content_type="application/x-www-form-urlencoded",
            environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
        )
        assert response.status_code == status, size
    assert _bobs_passwords(app) == ["whole"]


def test_chunked_bodies_are_left_alone_without_a_limit(make_app):
    app = make_app(MAX_CONTENT_LENGTH=None)
    response = _chunked(
        app.test_client(), _form_of_size(LIMIT + 1), **{"wsgi.input_terminated": True}
    )
    assert response.status_code == 302


# --- the body limit's middleware on its own ------------------------------------------------


class _Arriving:
    """A request body that arrives at most `piece` bytes per read; records what each read
    asked for."""

    def __init__(self, body: bytes, piece: int) -> None:
        self.rest, self.piece, self.asked = body, piece, []

    def read(self, size: int) -> bytes:
        self.asked.append(size)
        chunk, self.rest = self.rest[: min(size, self.piece)], self.rest[min(size, self.piece) :]
        return chunk


def _pass_through(limit: int | None, stream: _Arriving, **environ) -> dict:
    """The environ the app behind UnsizedBodyLimit sees for a POST whose body is stream."""
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return [b""]

    config = Config(".")
    config["MAX_CONTENT_LENGTH"] = limit
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": stream, **environ}
    UnsizedBodyLimit(app, config)(environ, lambda status, headers: None)
    return seen


#: What a server sends along a body it has de-chunked and will end itself.
DECHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}
#: A limit of 64 KiB: one read of that size leaves the last byte that tells the body is over.
KIB64 = 64 * 1024


@pytest.mark.parametrize("server", [DECHUNKED, {"wsgi.input_terminated": True}])
@pytest.mark.parametrize("piece", [KIB64 * 2, 1000, 1])
@pytest.mark.parametrize("extra", [1, 500])
def test_a_body_past_the_limit_is_read_one_byte_past_it_and_no_further(server, piece, extra):
    """However the body arrives (one read, or many short ones), the app sees a sized
    body one byte over the limit (Werkzeug then answers 413), and nothing more is read."""
    body = bytes(range(256)) * (KIB64 // 256) + b"x" * extra
    stream = _Arriving(body, piece)
    seen = _pass_through(KIB64, stream, **server)
    assert seen["wsgi.input"].read() == body[: KIB64 + 1]
    assert seen["CONTENT_LENGTH"] == str(KIB64 + 1)
    assert "HTTP_TRANSFER_ENCODING" not in seen
    assert len(stream.rest) == extra - 1  # left unread


@pytest.mark.parametrize("size", [0, 1, 999, KIB64])
def test_a_body_within_the_limit_reaches_the_app_whole_and_sized(size):
    body = b"y" * size
    seen = _pass_through(KIB64, _Arriving(body, 100), **DECHUNKED)
    assert seen["wsgi.input"].read() == body
    assert seen["CONTENT_LENGTH"] == str(size)
    assert "HTTP_TRANSFER_ENCODING" not in seen


def test_a_large_limit_is_read_64_kib_at_a_time():
    """A read that asks for more allocates that much at once: under a 16 MiB limit, a
    small chunked request must not cost 16 MiB."""
    stream = _Arriving(b"z" * (3 * KIB64 + 5), KIB64 * 4)
    seen = _pass_through(16 * 1024 * 1024, stream, **DECHUNKED)
    assert seen["CONTENT_LENGTH"] == str(3 * KIB64 + 5)
    assert stream.asked[:4] == [KIB64] * 4
    assert max(stream.asked) == KIB64


@pytest.mark.parametrize(
    "environ",
    [
        {"CONTENT_LENGTH": "5", "wsgi.input_terminated": True},  # Werkzeug holds it to the limit
        {"CONTENT_LENGTH": "5", "REQUEST_METHOD": "GET", "wsgi.input_terminated": True},
        {"REQUEST_METHOD": "GET", "wsgi.input_terminated": True},  # a GET carries no body
        {"REQUEST_METHOD": "HEAD", "wsgi.input_terminated": True},
        {},  # a sized body's server need not mark its end
    ],
)
def test_a_sized_body_or_a_request_without_one_is_left_alone(environ):
    stream = _Arriving(b"hello", 100)
    seen = _pass_through(KIB64, stream, **{"CONTENT_LENGTH": "5", **environ})
    assert seen["wsgi.input"] is stream
    assert seen["CONTENT_LENGTH"] == environ.get("CONTENT_LENGTH", "5")
    assert stream.asked == []
    assert "flaskr.length_required" not in seen


def test_without_a_limit_a_chunked_body_is_left_alone():
    stream = _Arriving(b"hello", 100)
    seen = _pass_through(None, stream, **DECHUNKED)
    assert seen["wsgi.input"] is stream
    assert seen["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert "CONTENT_LENGTH" not in seen


@pytest.mark.parametrize("encoding", ["chunked", "Chunked", "gzip, chunked"])
def test_a_chunked_body_whose_end_is_not_marked_is_flagged_unread(encoding):
    stream = _Arriving(b"hello", 100)
    seen = _pass_through(KIB64, stream, HTTP_TRANSFER_ENCODING=encoding)
    assert seen["flaskr.length_required"] is True
    assert seen["wsgi.input"] is stream and stream.asked == []


def _chunked_post(port: int, body: bytes) -> tuple[int, str]:
    """POST body in chunks of 100 bytes, as a streaming client would (no Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (body[i : i + 100] for i in range(0, len(body), 100))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/auth/register", body=chunks, headers=headers, encode_chunked=True)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _check_chunked_limit(app, port: int) -> None:
    status, page = _chunked_post(port, _form_of_size(LIMIT + 1))
    assert status == 413
    assert "<title>413" in page and 'class="site-nav"' in page
    assert _bobs_passwords(app) == []
    status, page = _chunked_post(port, _form_of_size(LIMIT))
    assert status == 302
    assert _bobs_passwords(app) == ["whole"]


@pytest.fixture
def serve(app_config, tmp_path):
    """Start a real server with MAX_CONTENT_LENGTH=LIMIT on this test's database; its port."""
    for servers in servers_for(app_config, tmp_path):

        def start(server: str) -> int:
            return servers.start(
                COMMANDS[server],
                WTF_CSRF_ENABLED="false",  # not what these tests are about
                PASSWORD_POLICY="false",
                MAX_CONTENT_LENGTH=str(LIMIT),
            )

        yield start


@pytest.mark.slow
@pytest.mark.parametrize("server", COMMANDS)
def test_a_real_server_refuses_an_oversized_chunked_body_with_a_413(app, serve, server):
    """granian de-chunks the body and leaves the limit to the app, which used to read up
    to the limit and carry on: the password was cut and the account made with it.
    (waitress buffers the whole body and counts it itself.)"""
    _check_chunked_limit(app, serve(server))
