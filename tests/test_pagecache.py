"""The anonymous page cache: fast repeat views that never show stale or private content."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.db import get_db, utcnow


@pytest.fixture
def statements(app):
    """SQL statements the app runs, recorded as they go."""
    seen: list[str] = []
    engine = app.extensions["flaskr.engine"]

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def author(make_user):
    return make_user("ann")


def test_repeat_anonymous_view_runs_only_the_version_check(client, author, make_post, statements):
    make_post(author, title="First post")
    assert b"First post" in client.get("/").data
    statements.clear()
    response = client.get("/")
    assert b"First post" in response.data
    queries = [s for s in statements if s != "BEGIN"]
    assert len(queries) == 1 and "content_version" in queries[0]


@pytest.mark.parametrize(
    "path",
    ["/", "/1/first-post", "/tag/cats", "/tags", "/u/ann", "/search?q=first", "/feed.atom"],
)
def test_every_cached_page_shows_an_edit_at_once(client, app, author, make_post, path):
    make_post(author, title="First post", body="first words", tags="cats")
    before = client.get(path)
    assert before.status_code == 200
    with app.app_context():
        from flaskr.blog import services

        services.revise_post(
            1, services.Draft(title="First post", body="first words changed", tags="cats, dogs")
        )
    after = client.get(path)
    assert after.status_code == 200
    if path == "/tags":
        assert b"dogs" in after.data and b"dogs" not in before.data
    else:
        assert b"changed" in after.data and b"changed" not in before.data


def test_plain_sql_insert_invalidates_the_cache(client, app, author):
    assert b"Raw title" not in client.get("/").data
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO post (title, body, author_id, created) VALUES "
            f"('Raw title', 'raw body', {int(author)}, '2020-01-01 00:00:00')"
        )
        db.commit()
    assert b"Raw title" in client.get("/").data


def test_scheduled_post_appears_on_time_despite_the_cache(client, app, author, make_post):
    make_post(author, title="Already out")
    soon = utcnow() + timedelta(seconds=2)
    make_post(author, title="Coming soon", publish_at=soon)
    assert b"Coming soon" not in client.get("/").data
    assert b"Coming soon" not in client.get("/").data  # served from the cache
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.3)
    assert b"Coming soon" in client.get("/").data


def test_signed_in_users_never_get_a_cached_page(client, auth, make_user, make_post):
    make_user("test", "test")
    post_id = make_post(1, title="Mine")
    assert b"/update" not in client.get("/").data  # anonymous view, now cached
    auth.login()
    assert f'href="/{post_id}/update"'.encode() in client.get("/").data
    auth.logout()
    assert b"/update" not in client.get("/").data


def test_a_page_with_a_flash_message_is_not_cached(client, auth, make_user, make_post):
    make_user("test", "test")
    make_post(1, title="Mine")
    auth.login()
    client.post("/1/delete")  # flashes "The post was deleted." for the next page
    auth.logout()
    first = client.get("/")
    second = client.get("/")
    assert b"The post was deleted." not in second.data
    assert first.status_code == second.status_code == 200


def test_page_cache_can_be_turned_off(make_app, make_user, make_post, statements):
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert not any("content_version" in s for s in statements)


def test_entries_expire_after_their_lifetime(make_app, app, author, make_post):
    short = make_app(PAGE_CACHE_SECONDS=1)
    client = short.test_client()
    make_post(author, title="Kept")
    client.get("/")
    store = short.extensions["flaskr.pagecache"]
    assert len(store.entries) == 1
    (entry,) = store.entries.values()
    assert entry.expires - time.time() <= 1.0


def test_conditional_feed_requests_bypass_the_cache(client, author, make_post):
    make_post(author, title="Feed me")
    first = client.get("/feed.atom")
    again = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_cache_keeps_within_its_byte_budget(app, monkeypatch):
    from flaskr import pagecache

    monkeypatch.setattr(pagecache, "MAX_BYTES", 250)
    store = pagecache._Store()
    for n in range(5):
        store.put(
            ("http", "h", f"/{n}"), pagecache._Entry(1, time.time() + 60, 200, [], b"x" * 100)
        )
    assert list(store.entries) == [("http", "h", "/3"), ("http", "h", "/4")]
    assert store.size == 200
    store.put(("http", "h", "/4"), pagecache._Entry(1, time.time() + 60, 200, [], b"y" * 10))
    assert store.size == 110


def test_http_and_https_pages_are_cached_apart(client, author, make_post):
    make_post(author, title="Schemes")
    plain = client.get("/1/schemes", base_url="http://blog.example")
    secure = client.get("/1/schemes", base_url="https://blog.example")
    assert b'href="http://blog.example/1/schemes"' in plain.data
    assert b'href="https://blog.example/1/schemes"' in secure.data
