"""Date archives: months with counts, each month's posts, one visibility rule."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from flaskr.blog.tables import post
from flaskr.db import transaction, utcnow
from flaskr.tags.tables import post_tag


def _at(app, post_id: int, when: datetime) -> None:
    """Set a post's publish time (typed, so SQLite stores it as flaskr does)."""
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post).where(post.c.id == post_id).values(published_at=when))
        conn.execute(
            sa.update(post_tag).where(post_tag.c.post_id == post_id).values(published_at=when)
        )


def test_the_archive_counts_posts_by_month(app, client, make_user, make_post):
    ann = make_user("ann")
    for day, title in ((3, "Oct A"), (20, "Oct B")):
        _at(app, make_post(ann, title=title), datetime(2025, 10, day, 12))
    _at(app, make_post(ann, title="Nov"), datetime(2025, 11, 30, 23, 59))
    _at(app, make_post(ann, title="Jan"), datetime(2026, 1, 1, 0, 0))
    page = client.get("/archive/").get_data(as_text=True)
    found = re.findall(
        r'href="/archive/(\d+)/(\d+)/">(\w+) \d+</a> <span class="hint">\((\d+)\)', page
    )
    assert found == [
        ("2026", "1", "January", "1"),
        ("2025", "11", "November", "1"),
        ("2025", "10", "October", "2"),
    ]
    assert "(3 posts)" in page and "(1 post)" in page
    year = client.get("/archive/2025/").get_data(as_text=True)
    assert "November 2025" in year and "January 2026" not in year


def test_a_month_lists_its_posts_newest_first_and_only_its_own(app, client, make_user, make_post):
    ann = make_user("ann")
    _at(app, make_post(ann, title="Early"), datetime(2025, 10, 1, 0, 0))
    _at(app, make_post(ann, title="Late"), datetime(2025, 10, 31, 23, 59, 59))
    _at(app, make_post(ann, title="Next month"), datetime(2025, 11, 1, 0, 0))
    page = client.get("/archive/2025/10/").get_data(as_text=True)
    titles = re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', page)
    assert titles == ["Late", "Early"]
    assert "<h1>Posts of October 2025</h1>" in page


def test_a_long_month_is_paged_and_says_how_many_pages(make_app, make_user, make_post):
    app = make_app(POSTS_PER_PAGE=2)
    ann = make_user("ann")
    for day in (1, 2, 3, 4, 5):
        _at(app, make_post(ann, title=f"Day {day}"), datetime(2025, 10, day, 12))
    _at(app, make_post(ann, title="November"), datetime(2025, 11, 1, 12))
    client = app.test_client()
    pages = [client.get(f"/archive/2025/10/?page={n}").text for n in (1, 2, 3)]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page
    assert "Day 1" in pages[2] and "November" not in pages[2]
    assert client.get("/archive/2025/10/?page=4").status_code == 404


def test_december_ends_at_the_new_year(app, client, make_user, make_post):
    ann = make_user("ann")
    _at(app, make_post(ann, title="Eve"), datetime(2025, 12, 31, 23, 0))
    _at(app, make_post(ann, title="New year"), datetime(2026, 1, 1, 0, 0))
    page = client.get("/archive/2025/12/").get_data(as_text=True)
    assert "Eve" in page and "New year" not in page


def test_drafts_and_scheduled_posts_are_not_in_the_archive(app, client, make_user, make_post):
    ann = make_user("ann")
    make_post(ann, title="Draft", status="draft")
    make_post(ann, title="Later", publish_at=utcnow() + timedelta(days=40))
    assert "Nothing has been published yet." in client.get("/archive/").get_data(as_text=True)
    now = utcnow()
    assert client.get(f"/archive/{now.year}/{now.month}/").status_code == 404


def test_counts_follow_every_change(app, client, make_user, make_post):
    app.config["PAGE_CACHE_SECONDS"] = 0
    ann = make_user("ann")
    _at(app, make_post(ann, title="One"), datetime(2025, 10, 3))
    assert "(1)" in client.get("/archive/").get_data(as_text=True)
    _at(app, make_post(ann, title="Two"), datetime(2025, 10, 4))
    assert "(2)" in client.get("/archive/").get_data(as_text=True)
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("DELETE FROM post"))
    assert "Nothing has been published yet." in client.get("/archive/").get_data(as_text=True)


def test_a_scheduled_post_joins_the_counts_when_its_time_comes(app, client, make_user, make_post):
    import time

    app.config["PAGE_CACHE_SECONDS"] = 0
    ann = make_user("ann")
    make_post(ann, title="Now")
    make_post(ann, title="Soon", publish_at=utcnow() + timedelta(seconds=1))
    now = utcnow()
    assert f"({1})" in client.get(f"/archive/{now.year}/").get_data(as_text=True)
    time.sleep(1.2)
    page = client.get(f"/archive/{now.year}/").get_data(as_text=True)
    assert "(2)" in page  # no write happened: the kept counts ran out at its time


def test_addresses_that_are_not_months_are_404(client, make_user, make_post):
    make_post(make_user("ann"), title="One")
    for path in (
        "/archive/2025/13/",
        "/archive/2025/0/",
        "/archive/999/1/",
        "/archive/10000/1/",
        "/archive/1999/",
        "/archive/2025/1/?page=2",
        "/archive/abc/",
    ):
        assert client.get(path).status_code == 404, path


def test_every_page_links_the_archive(client):
    assert 'href="/archive/"' in client.get("/").get_data(as_text=True)
