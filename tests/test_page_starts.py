"""Deep pages by seek: the same posts as OFFSET would give, however the list changed since."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.blog import page_starts
from flaskr.blog.tables import post
from flaskr.db import connection, transaction, utcnow

PER_PAGE = 3


@pytest.fixture
def blog(make_app, make_user, make_post):
    """An app with 3 posts a page and 10 posts an hour apart (titles P0 oldest .. P9)."""
    app = make_app(POSTS_PER_PAGE=PER_PAGE, PAGE_CACHE_SECONDS=0)
    author = make_user("alice")
    start = utcnow() - timedelta(days=1)
    for n in range(10):
        make_post(author, title=f"P{n}", publish_at=start + timedelta(hours=n))
    return app, author


def _titles(client, path="/", number=1):
    response = client.get(path if number == 1 else f"{path}?page={number}")
    assert response.status_code == 200
    return re.findall(
        r'<h2><a href="[^"]+">(P\d+|New\d*)</a></h2>', response.get_data(as_text=True)
    )


def _by_offset(app, number):
    """The titles OFFSET gives for that page, straight from the query."""
    from flaskr.blog import queries

    with app.app_context():
        rows = queries.list_reader_posts(limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    return [row["title"] for row in rows]


def _remembered(app):
    starts = app.extensions.get("flaskr.page_starts")
    return {} if starts is None else {k: dict(v) for k, v in starts.lists.items()}


def test_walking_the_pages_gives_what_offset_gives_and_remembers_where_they_start(blog):
    app, _ = blog
    client = app.test_client()
    expected = [["P9", "P8", "P7"], ["P6", "P5", "P4"], ["P3", "P2", "P1"], ["P0"]]
    for number, titles in enumerate(expected, start=1):
        assert _titles(client, number=number) == titles == _by_offset(app, number)
    assert sorted(_remembered(app)[(PER_PAGE, None, None)]) == [2, 3, 4]
    # Again, now by seek: the same posts.
    for number, titles in enumerate(expected, start=1):
        assert _titles(client, number=number) == titles


def test_a_remembered_start_is_where_the_next_request_seeks_from(blog, monkeypatch):
    app, _ = blog
    client = app.test_client()
    assert _titles(client, number=3) == ["P3", "P2", "P1"]
    seen = []
    original = page_starts.queries.list_reader_posts

    def spy(**kwargs):
        seen.append((kwargs["offset"], kwargs["start"] is not None))
        return original(**kwargs)

    monkeypatch.setattr(page_starts.queries, "list_reader_posts", spy)
    assert _titles(client, number=3) == ["P3", "P2", "P1"]
    assert _titles(client, number=4) == ["P0"]
    assert seen == [(0, True), (0, True)]


def test_a_new_post_moves_every_page_at_once(blog, make_post):
    app, author = blog
    client = app.test_client()
    for number in (2, 3):
        _titles(client, number=number)
    make_post(author, title="New")
    assert _titles(client, number=2) == ["P7", "P6", "P5"] == _by_offset(app, 2)
    assert _titles(client, number=3) == ["P4", "P3", "P2"] == _by_offset(app, 3)


def test_a_post_deleted_by_plain_sql_moves_the_pages(blog):
    app, _ = blog
    client = app.test_client()
    assert _titles(client, number=2) == ["P6", "P5", "P4"]
    with app.app_context(), transaction():
        connection().execute(sa.delete(post).where(post.c.title == "P8"))
    assert _titles(client, number=2) == ["P5", "P4", "P3"] == _by_offset(app, 2)


def test_a_scheduled_post_coming_out_moves_the_pages(blog, make_post, monkeypatch):
    app, author = blog
    client = app.test_client()
    soon = utcnow() + timedelta(minutes=5)
    make_post(author, title="New", publish_at=soon)
    assert _titles(client, number=2) == ["P6", "P5", "P4"]
    # Five minutes later, with no write in between: the scheduled post is out.
    later = soon + timedelta(seconds=1)
    monkeypatch.setattr(page_starts, "utcnow", lambda: later)
    assert _titles(client, number=2) == ["P7", "P6", "P5"]


def test_each_list_remembers_its_own_starts(blog, make_user, make_post):
    app, author = blog
    other = make_user("bob")
    for n in range(4):
        make_post(other, title=f"New{n}", tags="odd")
    client = app.test_client()
    assert _titles(client, "/", 2) == ["New0", "P9", "P8"]
    assert _titles(client, "/u/bob", 2) == ["New0"]
    assert _titles(client, "/tag/odd", 2) == ["New0"]
    keys = set(_remembered(app))
    assert (PER_PAGE, None, None) in keys
    assert any(name == "bob" for _, name, _ in keys)
    assert any(tag == "odd" for _, _, tag in keys)
    # Their pages stay their own by seek too.
    assert _titles(client, "/u/bob", 2) == ["New0"]
    assert _titles(client, "/", 2) == ["New0", "P9", "P8"]


def test_what_is_remembered_is_bounded(blog, monkeypatch):
    app, _ = blog
    monkeypatch.setattr(page_starts, "MAX_PAGES", 2)
    monkeypatch.setattr(page_starts, "MAX_LISTS", 1)
    client = app.test_client()
    for number in (2, 3, 4):
        _titles(client, number=number)
    assert list(_remembered(app)) == [(PER_PAGE, None, None)]
    assert len(_remembered(app)[(PER_PAGE, None, None)]) == 2
    _titles(client, "/u/alice", 2)
    assert len(_remembered(app)) == 1
    # Past the bounds, pages are still right (by OFFSET).
    assert _titles(client, number=4) == ["P0"]
    assert _titles(client, "/u/alice", 2) == ["P6", "P5", "P4"]


def test_a_page_past_the_end_is_a_404_even_after_its_start_was_known(blog):
    app, _ = blog
    client = app.test_client()
    assert _titles(client, number=4) == ["P0"]
    with app.app_context(), transaction():
        connection().execute(sa.delete(post).where(post.c.title.in_(["P0", "P1", "P2"])))
    assert client.get("/?page=4").status_code == 404
