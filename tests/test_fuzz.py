"""Random text into every form of the app: never a server error."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from flaskr.settings import services as site_settings

PW = "a long enough pw"

#: Every POST endpoint and the fields its form sends (test_every_post_rule_is_fuzzed
#: fails when a new one appears, so it gets added here).
FORMS = {
    "auth.register": ["username", "password"],
    "auth.login": ["username", "password"],
    "auth.logout": [],
    "auth.change_password": ["current_password", "new_password"],
    "auth.delete_account": ["password"],
    "recovery.change_email": ["email", "password"],
    "recovery.confirm_email": [],
    "recovery.forgot_password": ["email"],
    "recovery.reset_password": ["password"],
    "admin.retry_mail": [],
    "twofactor.second_step": ["code"],
    "twofactor.setup": ["code", "password"],
    "twofactor.renew_codes": ["password"],
    "twofactor.disable": ["code", "password"],
    "blog.create": ["title", "body", "tags", "status", "publish_at", "action"],
    "blog.update": ["title", "body", "tags", "status", "publish_at", "version", "action"],
    "blog.delete": [],
    "likes.like": ["like"],
    "comments.create": ["body", "parent_id", "stamp", "website"],
    "comments.edit": ["body"],
    "comments.delete": [],
    "comments.moderate": ["action", "next"],
    "comments.queue": ["action", "ids", "item"],
    "comments.state": ["open"],
    "comments.ban": ["banned"],
    "comments.confirm": [],
    "comments.guest": ["body", "parent_id", "stamp", "website", "name", "email"],
    "notifications.update": ["comment-reply", "comment-on-post", "comment-queue"],
    "notifications.unsubscribe": ["List-Unsubscribe"],
    "blog.autosave": ["title", "body", "tags", "publish_at", "version", "slug", "excerpt"],
    "blog.preview": ["body"],
    "history.restore": [],
    "auth.update_profile": ["bio", "timezone"],
    "appearance.choose_theme": ["theme", "next"],
    "trash.restore": [],
    "trash.delete_forever": [],
    "media.upload": ["alt", "decorative", "picture"],
    "media.delete": [],
    "media.replace": ["picture"],
    "admin.change_role": ["role", "q", "page"],
    "admin.disable": ["q", "page"],
    "admin.enable": ["q", "page"],
    "admin.unpublish": ["author", "state", "tag", "page"],
    "admin.invites": ["role", "days"],
    "admin.revoke_invite": [],
    "admin.delete_user": ["posts", "heir"],
    "admin.settings": [setting.name for setting in site_settings.SETTINGS],
}
#: GET forms: the search box and list paging.
QUERIES = {"/search": ["q", "tag", "author", "page"], "/": ["page"]}
#: Post 1 is alice's; account 2 is bob, whom alice (an admin) may act on.
URL_VALUES = {
    "post_id": 1,
    "version": 1,
    "user_id": 2,
    "invite_id": 1,
    "message_id": 1,
    "comment_id": 1,
    "media_id": 1,
}

_characters = st.characters(exclude_categories=("Cs",))  # surrogates cannot be sent as UTF-8
TEXT = st.one_of(
    st.text(_characters, max_size=40),
    st.text(_characters, max_size=3000),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\r\n", "\u2028", "\ufeff", "🙂" * 300, "%00"]),
    st.sampled_from(["draft", "published", "preview", "2026-01-01T10:00", "0", "-1"]),
    st.builds(
        lambda s, n: s * n, st.text(_characters, min_size=1, max_size=4), st.integers(1, 400_000)
    ),
)
#: Query strings stay within what a server accepts in a request line (gunicorn: 4094 bytes).
QUERY_TEXT = st.one_of(
    st.text(_characters, max_size=40),
    st.text(_characters, max_size=1000),
    st.sampled_from(
        ["", "\x00", "0", "-1", "99999999", "1e3", '"', "*", "a OR b", "NEAR(", "tag:x"]
    ),
)
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no example database in the work tree; runs are reproducible by seed
)


#: Longer values are percent-encoded byte for byte in C (see _form_body).
LONG_VALUE = 10_000
#: What Werkzeug's test client leaves unencoded in a form body (werkzeug.urls._urlencode).
_SAFE = "!$'()*,/:;?@"


def _form_body(fields: dict[str, str]) -> bytes:
    """fields as an application/x-www-form-urlencoded body, as the test client would
    send them, but quickly: urllib's quote() makes a Python call per byte, and for
    the 400,000-character values it was a third of this file's time. Long values
    have every byte percent-encoded, which means the same to any form parser."""
    return b"&".join(_encoded(name) + b"=" + _encoded(value) for name, value in fields.items())


def _encoded(text: str) -> bytes:
    """text as a form body writes it: as the test client would, or byte for byte if long."""
    if len(text) < LONG_VALUE:
        return quote_plus(text, safe=_SAFE).encode("ascii")  # as the test client encodes it
    raw = text.encode()
    hexed = raw.hex().upper().encode("ascii")
    out = bytearray(3 * len(raw))
    out[0::3] = b"%" * len(raw)
    out[1::3] = hexed[0::2]
    out[2::3] = hexed[1::2]
    return bytes(out)


@pytest.mark.db_independent
def test_form_body_is_what_the_server_reads():
    fields = {"a b": "x+y & z=1 %41 /?@", "long": "é\x00🙂 +" * (LONG_VALUE // 4 + 1), "empty": ""}
    body = _form_body(fields)
    assert b"%C3%A9%00%F0%9F%99%82%20%2B" in body  # the long value, byte for byte
    environ = EnvironBuilder(
        method="POST", data=body, content_type="application/x-www-form-urlencoded"
    ).get_environ()
    assert Request(environ).form.to_dict() == fields


def _endpoint_url(app, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule.build({name: URL_VALUES.get(name, "x") for name in rule.arguments})[1]


def test_every_post_rule_is_fuzzed(app):
    posted = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert posted == set(FORMS)


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_random_form_input_never_causes_a_server_error(app, make_user, make_post, endpoint):
    make_post(make_user("alice", PW, role="admin"), title="Hello", body="Body")
    make_user("bob", PW)
    url = _endpoint_url(app, endpoint)
    fields = FORMS[endpoint] + ["unexpected"]
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})

    @FUZZ
    @given(st.fixed_dictionaries({}, optional={name: TEXT for name in fields}))
    def post_random(data: dict[str, str]) -> None:
        if client.get_cookie("session") is None or endpoint in ("auth.logout",):
            client.post("/auth/login", data={"username": "alice", "password": PW})
        response = client.post(
            url, data=_form_body(data), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, (response.status_code, data)

    post_random()


@pytest.mark.parametrize("path", sorted(QUERIES))
def test_random_query_strings_never_cause_a_server_error(client, make_user, make_post, path):
    make_post(make_user("alice", PW), title="Hello", body="Body")

    @FUZZ
    @given(st.fixed_dictionaries({}, optional={name: QUERY_TEXT for name in QUERIES[path]}))
    def get_random(params: dict[str, str]) -> None:
        response = client.get(path, query_string=params)
        assert response.status_code < 500, (response.status_code, params)

    get_random()


@FUZZ
@given(raw=st.binary(max_size=300))
def test_raw_bytes_as_a_form_body_never_cause_a_server_error(app, raw):
    # One app for every example (the fixture is built once per test): garbage
    # that gets through only ever fails to register or log in.
    client = app.test_client()
    for path in ("/auth/login", "/auth/register"):
        response = client.post(path, data=raw, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500
        response = client.post(path, data=b"username=" + raw, content_type="multipart/form-data")
        assert response.status_code < 500
