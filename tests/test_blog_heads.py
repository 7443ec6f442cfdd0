"""The <head> of a post's page, kept rendered: never shown once anything in it changed."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from flaskr.blog import heads
from flaskr.db import transaction
from flaskr.fragments import Fragments


@pytest.fixture
def app(make_app):
    # No page cache: what a reader sees comes from the kept heads alone.
    return make_app(PAGE_CACHE_SECONDS=0)


def _kept(app) -> Fragments:
    return app.extensions["flaskr.post_heads"]


def _post(**changes):
    post = {
        "id": 7,
        "title": "One",
        "slug": None,
        "summary": "first words",
        "published_at": datetime(2026, 1, 3, 3, 4, 5),
        "updated": None,
        "tags": ["cats"],
        "cover": None,
        "body_html": '<p><img src="/media/a.webp" alt="a" width="4" height="3"> first words</p>',
    }
    post.update(changes)
    return post


#: A new value for each value of the post that the head is made from.
POST_CHANGES = {
    "id": 8,
    "title": "Changed",
    "slug": "own-address",
    "summary": "changed summary",
    "published_at": datetime(2025, 5, 6, 7, 8, 9),
    "updated": datetime(2027, 5, 6, 7, 8, 9),
    "tags": ["dogs"],
    "cover": "![a cover](https://example.org/cover.png)",
    "body_html": '<p><img src="/media/b.webp" alt="b" width="4" height="3"> other words</p>',
}
#: What the page around the post may change: where it is served, its language, the site's name.
PAGE_CHANGES = {
    "host": {"base_url": "http://other.example"},
    "scheme": {"base_url": "https://localhost"},
    "script root": {"base_url": "http://localhost/blog/"},
    "language": {"language": "de"},
    "site name": {"site_name": "Another blog"},
    "state": {"state": "draft"},
}


def _heads(
    app, post, *, state="published", base_url="http://localhost", language="en", site_name="Flaskr"
):
    """The head post_head gives (kept if it can), and the same head rendered afresh."""
    app.config["SITE_NAME"] = site_name
    with app.test_request_context("/", base_url=base_url, headers={"Accept-Language": language}):
        given = heads.post_head(post, state)
        kept = _kept(app)
        app.extensions["flaskr.post_heads"] = Fragments(0)  # keeps nothing: renders
        try:
            built = heads.post_head(post, state)
        finally:
            app.extensions["flaskr.post_heads"] = kept
    return given, built


def test_a_kept_head_is_given_again_not_rendered(app):
    first, built = _heads(app, _post())
    assert first == built
    assert 'property="og:image" content="http://localhost/media/a.webp"' in first
    again, _ = _heads(app, _post())
    assert again is first  # kept, not rendered again
    assert len(_kept(app).entries) == 1


@pytest.mark.parametrize("field", sorted(POST_CHANGES))
def test_a_kept_head_is_never_given_for_a_changed_post(app, field):
    first, built_first = _heads(app, _post())
    changed, built = _heads(app, _post(**{field: POST_CHANGES[field]}))
    assert built != built_first  # the change shows in the head
    assert changed == built


@pytest.mark.parametrize("change", sorted(PAGE_CHANGES))
def test_a_kept_head_is_never_given_for_another_address_language_or_state(app, change):
    first, built_first = _heads(app, _post())
    changed, built = _heads(app, _post(), **PAGE_CHANGES[change])
    assert built != built_first
    assert changed == built


def test_a_post_with_a_very_long_body_has_its_head_rendered_each_time(app, monkeypatch):
    post = _post()
    monkeypatch.setattr(heads, "MAX_BODY", len(post["body_html"]) - 1)
    _heads(app, post)
    assert not _kept(app).entries
    monkeypatch.setattr(heads, "MAX_BODY", len(post["body_html"]))
    given, _ = _heads(app, post)
    ((html, size),) = _kept(app).entries.values()
    # The kept head counts its HTML and the body in its key.
    assert html == given and size == len(html) + len(post["body_html"])


def test_a_posts_page_shows_a_change_made_by_plain_sql_at_once(client, app, make_user, make_post):
    make_post(make_user("ann"), title="Kept title", body="kept words", tags="kepttag")
    page = client.get("/1/kept-title").get_data(as_text=True)
    assert '<meta property="og:title" content="Kept title">' in page
    assert '<meta property="article:tag" content="kepttag">' in page
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE post SET title = 'Other title', summary = 'other summary'"))
        conn.execute(sa.text("UPDATE tag SET name = 'othertag'"))
    page = client.get("/1/kept-title", follow_redirects=True).get_data(as_text=True)
    assert '<meta property="og:title" content="Other title">' in page
    assert '<meta property="og:description" content="other summary">' in page
    assert '<meta property="article:tag" content="othertag">' in page
    assert "Kept title" not in page and "kepttag" not in page
