"""Author profiles: the public page (bio, posts, feeds) and the profile settings."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from flaskr.auth.tables import user
from flaskr.db import connection, transaction

PW = "a long enough pw"


def flashed(client) -> list[str]:
    """The messages waiting in the client's session."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def profile_row(app, username: str = "alice") -> dict:
    """The stored bio and time zone of an account."""
    with app.app_context():
        query = sa.select(user.c.bio, user.c.timezone).where(user.c.username == username)
        return dict(connection().execute(query).mappings().one())


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


def test_saving_the_profile(app, client, alice):
    form = {"bio": "I write about **birds**.", "timezone": "America/New_York"}
    response = client.post("/auth/account/profile", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/account"
    assert flashed(client) == ["Your profile has been saved."]
    assert profile_row(app) == {"bio": "I write about **birds**.", "timezone": "America/New_York"}
    account = client.get("/auth/account").get_data(as_text=True)
    assert 'value="America/New_York"' in account
    assert "I write about **birds**." in account


def test_an_empty_time_zone_means_utc(app, client, alice):
    assert client.post("/auth/account/profile", data={"bio": "", "timezone": ""}).status_code == 302
    assert profile_row(app)["timezone"] == "UTC"


def test_a_time_zone_typed_with_spaces_around_it_is_accepted(app, client, alice):
    form = {"bio": "", "timezone": "  Asia/Tokyo "}
    assert client.post("/auth/account/profile", data=form).status_code == 302
    assert profile_row(app)["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"bio": "x", "timezone": "Mars/Olympus_Mons"},
            "Unknown time zone 'Mars/Olympus_Mons'. Use a name like Europe/Berlin.",
        ),
        (
            {"bio": "x", "timezone": "europe/berlin"},
            "Unknown time zone 'europe/berlin'. Use a name like Europe/Berlin.",
        ),
        ({"bio": "x", "timezone": "../../etc/passwd"}, "Unknown time zone '../../etc/passwd'."),
        # The server's own zone is no place an author lives in.
        ({"bio": "x", "timezone": "localtime"}, "Unknown time zone 'localtime'."),
        ({"bio": "x", "timezone": "Z" * 65}, "Time zone is too long (at most 64 characters)."),
        ({"bio": "x" * 5001, "timezone": "UTC"}, "Bio is too long (at most 5000 characters)."),
    ],
)
def test_a_bad_profile_is_400_with_a_message_and_nothing_saved(app, client, alice, form, message):
    response = client.post("/auth/account/profile", data=form)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert profile_row(app) == {"bio": "", "timezone": "UTC"}


def test_profile_settings_need_a_signed_in_user(app, client, make_user):
    make_user("alice", PW)
    response = client.post("/auth/account/profile", data={"bio": "x", "timezone": "UTC"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert profile_row(app)["bio"] == ""


def test_the_profile_shows_the_bio_as_sanitized_markdown(client, alice):
    bio = "Hello *there*.\n\n<script>alert(1)</script> [me](javascript:alert(2))"
    client.post("/auth/account/profile", data={"bio": bio, "timezone": "UTC"})
    response = client.get("/u/alice")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>alice</h1>" in page
    assert "Hello <em>there</em>." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert 'href="javascript' not in page


def test_the_profile_lists_the_authors_posts_newest_first_and_pages(client, make_user, make_post):
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    for number in range(11):
        make_post(alice, title=f"Alice {number:02}")
    make_post(bob, title="By bob")
    first = client.get("/u/alice").get_data(as_text=True)
    assert first.count('<article class="post">') == 10
    assert first.index("Alice 10") < first.index("Alice 01")
    assert "Alice 00" not in first and "By bob" not in first
    assert 'href="/u/alice?page=2"' in first
    second = client.get("/u/alice?page=2").get_data(as_text=True)
    assert second.count('<article class="post">') == 1 and "Alice 00" in second
    assert client.get("/u/alice?page=3").status_code == 404
    assert client.get("/u/alice?page=x").status_code == 404


def test_an_author_without_posts_has_a_profile(client, make_user):
    make_user("alice", PW)
    response = client.get("/u/alice")
    assert response.status_code == 200
    assert "No published posts yet." in response.get_data(as_text=True)


def test_an_author_with_only_hidden_posts_has_a_profile_and_an_empty_feed(
    client, make_user, make_post
):
    from datetime import datetime

    alice = make_user("alice", PW)
    make_post(alice, title="Draft", status="draft")
    make_post(alice, title="Scheduled", publish_at=datetime(2999, 1, 1))
    page = client.get("/u/alice").get_data(as_text=True)
    assert "<h1>alice</h1>" in page and "No published posts yet." in page
    assert "Draft" not in page and "Scheduled" not in page
    assert client.get("/u/alice?page=2").status_code == 404
    feed = client.get("/u/alice/feed.atom")
    assert feed.status_code == 200 and b"<entry>" not in feed.data


def test_a_profile_with_posts_is_one_statement_its_author_read_with_them(
    make_app, make_user, make_post
):
    """On PostgreSQL a statement is a round trip: the author's profile rides on the list."""
    from flaskr.auth import queries as auth_queries
    from flaskr.blog import queries as blog_queries

    app = make_app(PAGE_CACHE_SECONDS=0)
    alice = make_user("alice", PW)
    make_post(alice, title="Mine")
    with app.app_context(), transaction() as conn:
        bio = user.update().where(user.c.id == alice)
        conn.execute(bio.values(bio="I *write*.", comments_banned=True))
    with app.app_context():
        (row,) = blog_queries.list_reader_posts(limit=1, author="alice")
        assert auth_queries.profile_in(row) == dict(auth_queries.find_user_by_name("alice"))
        engine = connection().engine
    client = app.test_client()
    client.get("/hello")  # the first request checks migrations; not a page cost
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "content_version" not in statement and "site_setting" not in statement:
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/u/alice").get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert "I <em>write</em>." in page and "Mine" in page
    assert len(statements) == 1, statements


def test_the_profile_links_its_feeds(client, make_user):
    make_user("alice", PW)
    page = client.get("/u/alice").get_data(as_text=True)
    for kind, mimetype, title in (
        ("atom", "application/atom+xml", "alice (Atom)"),
        ("rss", "application/rss+xml", "alice (RSS)"),
        ("json", "application/feed+json", "alice (JSON Feed)"),
    ):
        link = (
            f'<link rel="alternate" type="{mimetype}" title="{title}" href="/u/alice/feed.{kind}">'
        )
        assert link in page
        assert f'<a href="/u/alice/feed.{kind}">' in page  # and visible links, without JavaScript


@pytest.mark.parametrize("name", ["nobody", "Alice", "alice ", "a" * 500])
def test_an_unknown_user_is_404(client, make_user, name):
    make_user("alice", PW)
    assert client.get(f"/u/{name}").status_code == 404


def test_post_bylines_link_to_the_authors_profile(client, make_user, make_post):
    make_post(make_user("alice", PW), title="Mine")
    page = client.get("/1/mine").get_data(as_text=True)
    assert '<a rel="author" href="/u/alice">' in page
    assert client.get("/u/alice").status_code == 200


@pytest.mark.parametrize("name", ["jo smith", "zoë", "a?b", "a#b", "100%", "a/b"])
def test_every_username_has_a_reachable_profile(client, make_user, make_post, name):
    """Usernames may hold spaces and punctuation: the links built for them must work."""
    make_post(make_user(name, PW), title="Post")
    detail = client.get("/1/post").get_data(as_text=True)
    start = detail.index('<a rel="author" href="') + len('<a rel="author" href="')
    href = html.unescape(detail[start : detail.index('"', start)])
    response = client.get(href)
    assert response.status_code == 200, href
    assert f"<h1>{html.escape(name)}</h1>" in response.get_data(as_text=True)
    assert client.get(href + "/feed.atom").status_code == 200


def test_the_time_zone_field_offers_every_zone_to_search(client, alice):
    client.post("/auth/login", data={"username": "alice", "password": PW})
    page = client.get("/auth/account").get_data(as_text=True)
    assert 'list="timezones"' in page
    options = re.findall(r'<option value="([^"]+)"></option>', page)
    assert options == sorted(options) and len(options) > 300
    assert {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"} <= set(options)
    assert "localtime" not in options
