"""Drafts and scheduled posts: hidden from every reader, shown to their author, no job needed."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from flaskr.blog.tables import post
from flaskr.db import connection, transaction, utcnow

PW = "a long enough pw"
#: Words that only the hidden posts carry, in titles, bodies, tags and slugs.
HIDDEN_WORDS = ("heron", "egret", "secretdraft", "secretfuture")
#: Every page a reader can reach posts through, with the visible post expected on it.
SURFACES = [
    "/",
    "/tag/shared",
    "/tags",
    "/search?q=shared",
    "/search?q=alice",
    "/feed.atom",
    "/feed.rss",
    "/feed.json",
    "/tag/shared/feed.atom",
    "/tag/shared/feed.rss",
    "/tag/shared/feed.json",
    "/u/alice",
    "/u/alice/feed.atom",
    "/u/alice/feed.rss",
    "/u/alice/feed.json",
    "/sitemap/posts-0.xml",
    "/sitemap/pages.xml",
    "/1/published-pelican",
]


def sql(app, statement: str, **params):
    """Run one statement by plain SQL and commit it, as a script or admin would."""
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text(statement), params)


def flashed(client) -> list[str]:
    """The messages waiting in the client's session."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


@pytest.fixture
def posts(app, make_user, make_post) -> dict[str, int]:
    """Alice's posts in each state (ids 1-3), all tagged 'shared'; bob writes nothing."""
    alice = make_user("alice", PW)
    make_user("bob", PW)
    future = utcnow() + timedelta(days=1)
    return {
        "published": make_post(
            alice, title="Published pelican", body="pelicanword shown", tags="shared, open"
        ),
        "draft": make_post(
            alice, title="Draft heron", body="heronword", tags="shared, secretdraft", status="draft"
        ),
        "scheduled": make_post(
            alice,
            title="Scheduled egret",
            body="egretword",
            tags="shared, secretfuture",
            publish_at=future,
        ),
    }


def _assert_only_the_published_post(response, path: str) -> None:
    assert response.status_code == 200, path
    text = response.get_data(as_text=True).lower()
    if path not in ("/tags", "/sitemap/pages.xml"):
        assert "pelican" in text, path
    for word in HIDDEN_WORDS:
        assert word not in text, (path, word)


def test_drafts_and_scheduled_posts_are_hidden_from_visitors(client, posts):
    for path in SURFACES:
        _assert_only_the_published_post(client.get(path), path)


def test_drafts_and_scheduled_posts_are_hidden_from_other_users(client, auth, posts):
    auth.login("bob", PW)
    for path in SURFACES:
        _assert_only_the_published_post(client.get(path), path)


def test_the_sitemap_index_lists_only_published_posts(client, posts):
    # Post 1 is the only visible one: its chunk is the only post sitemap.
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert index.count("/sitemap/posts-") == 1


@pytest.mark.parametrize("word", ["heronword", "egretword", "heron", "egret", "secretdraft"])
def test_search_never_finds_hidden_posts(client, posts, word):
    response = client.get(f"/search?q={word}")
    assert response.status_code == 200
    assert "No results" in response.get_data(as_text=True)


def test_tag_counts_leave_hidden_posts_out(client, posts):
    page = client.get("/tags").get_data(as_text=True)
    assert '<a href="/tag/shared">shared</a> <span class="meta">(1)</span>' in page
    assert '<a href="/tag/open">open</a> <span class="meta">(1)</span>' in page


@pytest.mark.parametrize(
    "path",
    [
        "/tag/secretdraft",
        "/tag/secretfuture",
        "/tag/secretdraft/feed.atom",
        "/tag/secretfuture/feed.json",
    ],
)
def test_a_tag_only_hidden_posts_carry_looks_like_an_unknown_tag(client, posts, path):
    assert client.get(path).status_code == 404
    assert client.get(path.replace("secret", "nosuch")).status_code == 404


@pytest.mark.parametrize("key", ["draft", "scheduled"])
def test_hidden_post_pages_are_404_for_visitors_and_other_users(client, auth, posts, key):
    post_id = posts[key]
    for path in (f"/{post_id}/", f"/{post_id}/draft-heron", f"/{post_id}/scheduled-egret"):
        assert client.get(path).status_code == 404
    auth.login("bob", PW)
    for path in (f"/{post_id}/", f"/{post_id}/draft-heron", f"/{post_id}/scheduled-egret"):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("key", "slug", "notice"),
    [
        ("draft", "draft-heron", "This post is a draft. Only you can see it."),
        ("scheduled", "scheduled-egret", "This post is scheduled: it will be published on"),
    ],
)
def test_the_author_sees_a_hidden_post_with_a_notice(client, auth, posts, key, slug, notice):
    auth.login("alice", PW)
    response = client.get(f"/{posts[key]}/")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/{posts[key]}/{slug}"
    response = client.get(f"/{posts[key]}/{slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert notice in page
    assert '<meta name="robots" content="noindex">' in page
    assert 'rel="prev"' not in page and 'rel="next"' not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_author_does_not_see_hidden_posts_in_public_lists(client, auth, posts):
    auth.login("alice", PW)
    for path in ("/", "/tag/shared", "/u/alice", "/feed.atom", "/search?q=shared"):
        text = client.get(path).get_data(as_text=True).lower()
        assert "heron" not in text and "egret" not in text, path


def test_my_posts_lists_every_state_for_the_author(client, auth, posts):
    auth.login("alice", PW)
    page = client.get("/me/posts").get_data(as_text=True)
    for title, state in (
        ("Published pelican", "Published"),
        ("Draft heron", "Draft"),
        ("Scheduled egret", "Scheduled"),
    ):
        assert title in page
        assert f"<td>{state}</td>" in page
    # Newest first.
    assert (
        page.index("Scheduled egret") < page.index("Draft heron") < page.index("Published pelican")
    )


def test_my_posts_shows_nothing_of_other_authors(client, auth, posts):
    auth.login("bob", PW)
    response = client.get("/me/posts")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "You have not written anything yet." in text
    assert "pelican" not in text.lower() and "heron" not in text.lower()


def test_my_posts_needs_a_signed_in_user(client):
    response = client.get("/me/posts")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


def test_my_posts_is_paged(client, auth, make_user, make_post):
    alice = make_user("alice", PW)
    for number in range(11):
        make_post(alice, title=f"Note {number}", status="draft")
    auth.login("alice", PW)
    first = client.get("/me/posts").get_data(as_text=True)
    assert "Note 10" in first and "Note 0" not in first
    assert 'href="/me/posts?page=2"' in first
    second = client.get("/me/posts?page=2").get_data(as_text=True)
    assert "Note 0" in second and "Note 1<" not in second
    assert client.get("/me/posts?page=3").status_code == 404


def test_the_own_posts_query_gives_a_page_and_one_more_row(app, make_user, make_post):
    """The query on its own: every state, newest written first, only the author's."""
    from flaskr.blog import queries

    alice, bob = make_user("alice", PW), make_user("bob", PW)
    make_post(alice, title="Published")  # 1
    make_post(alice, title="Draft", status="draft")  # 2
    make_post(bob, title="Bob's")  # 3
    make_post(alice, title="Scheduled", publish_at=utcnow() + timedelta(days=1))  # 4
    make_post(alice, title="Backdated")  # 5
    sql(app, "UPDATE post SET published_at = :t WHERE id = 5", t=datetime(2001, 1, 1))
    with app.app_context():

        def ids(page: int, per_page: int) -> list[int]:
            rows = queries.list_own_posts(alice, page=page, per_page=per_page)
            return [row["id"] for row in rows]

        assert ids(1, 2) == [5, 4, 2]
        assert ids(2, 2) == [2, 1]
        assert ids(3, 2) == []
        assert ids(1, 4) == [5, 4, 2, 1]
        assert ids(2, 3) == [1]
        row = queries.list_own_posts(bob, page=1, per_page=1)[0]
    assert (row["id"], row["username"], row["status"]) == (3, "bob", "published")


def test_the_next_publication_is_the_soonest_scheduled_post_and_never_a_draft(
    app, make_user, make_post
):
    """What the page cache keeps pages until: drafts, visible posts and a post due
    exactly now never count."""
    from flaskr.blog import queries

    alice = make_user("alice", PW)
    with app.app_context():
        assert queries.next_publication(utcnow()) is None
    make_post(alice, title="Out")
    sql(app, "UPDATE post SET published_at = :t", t=datetime(2001, 1, 1))
    now = utcnow()
    make_post(alice, title="Future draft", status="draft", publish_at=now + timedelta(hours=1))
    make_post(alice, title="Due now", publish_at=now)
    make_post(alice, title="Later", publish_at=now + timedelta(hours=3))
    make_post(alice, title="Sooner", publish_at=now + timedelta(hours=2))
    with app.app_context():
        assert queries.next_publication(now) == now + timedelta(hours=2)
        assert queries.next_publication(now + timedelta(hours=2)) == now + timedelta(hours=3)
        assert queries.next_publication(now + timedelta(hours=3)) is None
        assert queries.next_publication(now - timedelta(seconds=1)) == now
        assert queries.next_publication(datetime(2000, 1, 1)) == datetime(2001, 1, 1)


def test_a_scheduled_post_appears_when_its_time_comes_without_any_job(app, client, posts):
    post_id = posts["scheduled"]
    assert "egret" not in client.get("/").get_data(as_text=True).lower()
    # Time passes: the stored time is now in the past (no job, no status change).
    sql(app, "UPDATE post SET published_at = :t WHERE id = :id", t=utcnow(), id=post_id)
    for path in ("/", "/tag/shared", "/tag/secretfuture", "/u/alice", "/search?q=egretword"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Scheduled egret" in response.get_data(as_text=True), path
    assert client.get(f"/{post_id}/scheduled-egret").status_code == 200
    for kind in ("atom", "rss", "json"):
        assert "Scheduled egret" in client.get(f"/feed.{kind}").get_data(as_text=True)
        assert "Scheduled egret" in client.get(f"/tag/shared/feed.{kind}").get_data(as_text=True)
    assert f"/{post_id}/scheduled-egret" in client.get("/sitemap/posts-0.xml").get_data(
        as_text=True
    )
    tags = client.get("/tags").get_data(as_text=True)
    assert '<a href="/tag/shared">shared</a> <span class="meta">(2)</span>' in tags


def test_a_post_inserted_by_sql_with_a_future_time_waits_for_it(app, client, make_user):
    alice = make_user("alice", PW)
    soon = utcnow() + timedelta(hours=1)
    sql(
        app,
        "INSERT INTO post (title, body, author_id, published_at) VALUES ('Later', 'b', :a, :t)",
        a=alice,
        t=soon,
    )
    assert "Later" not in client.get("/").get_data(as_text=True)
    assert client.get("/1/later").status_code == 404
    sql(app, "UPDATE post SET published_at = :t", t=soon - timedelta(hours=2))
    assert "Later" in client.get("/").get_data(as_text=True)
    assert client.get("/1/later").status_code == 200


def test_a_draft_saved_in_the_editor_is_hidden_and_publishing_it_makes_it_new(
    app, client, auth, make_user, make_post
):
    alice = make_user("alice", PW)
    make_post(alice, title="Older")
    auth.login("alice", PW)
    form = {"title": "Work in progress", "body": "b", "status": "draft"}
    response = client.post("/create", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/2/work-in-progress"
    assert flashed(client) == ["Saved as a draft."]
    auth.logout()
    assert "Work in progress" not in client.get("/").get_data(as_text=True)
    assert client.get("/2/work-in-progress").status_code == 404

    auth.login("alice", PW)
    # Backdate the draft: publishing must still put it at the top.
    sql(app, "UPDATE post SET published_at = :t WHERE id = 2", t=datetime(2001, 1, 1))
    form = {"title": "Work in progress", "body": "b", "status": "published", "version": "1"}
    response = client.post("/2/update", data=form)
    assert response.status_code == 302
    assert flashed(client) == ["Published."]
    auth.logout()
    page = client.get("/").get_data(as_text=True)
    assert page.index("Work in progress") < page.index("Older")
    with app.app_context():
        query = sa.select(post.c.published_at).where(post.c.id == 2)
        published_at = connection().execute(query).scalar_one()
    assert abs(published_at - utcnow()) < timedelta(minutes=1)


def test_scheduling_in_the_editor_says_so(client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    form = {"title": "Soon", "body": "b", "publish_at": "2099-01-01T10:00"}
    response = client.post("/create", data=form)
    assert response.status_code == 302
    assert flashed(client) == ["Scheduled."]


def test_publish_time_is_typed_in_the_authors_zone_and_stored_in_utc(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.post("/auth/account/profile", data={"bio": "", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/account"
    assert flashed(client) == ["Your profile has been saved."]
    editor = client.get("/create").get_data(as_text=True)
    assert "your time zone: Europe/Berlin" in editor

    summer = {"title": "Summer", "body": "b", "publish_at": "2099-07-01T12:00"}
    winter = {"title": "Winter", "body": "b", "publish_at": "2099-01-15T12:00"}
    assert client.post("/create", data=summer).status_code == 302
    assert client.post("/create", data=winter).status_code == 302
    with app.app_context():
        stored = dict(connection().execute(sa.select(post.c.title, post.c.published_at)).all())
    assert stored == {
        "Summer": datetime(2099, 7, 1, 10, 0),  # CEST, UTC+2
        "Winter": datetime(2099, 1, 15, 11, 0),  # CET, UTC+1
    }
    # The editor and her list show it back in her zone.
    assert 'value="2099-07-01T12:00"' in client.get("/1/update").get_data(as_text=True)
    assert "<td>2099-07-01 12:00</td>" in client.get("/me/posts").get_data(as_text=True)


def test_a_malformed_publish_time_is_refused(app, client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    response = client.post("/create", data={"title": "T", "body": "b", "publish_at": "tomorrow"})
    assert response.status_code == 200
    assert "Publish time must look like 2026-12-31T18:30." in response.get_data(as_text=True)
    with app.app_context():
        assert connection().execute(sa.text("SELECT COUNT(*) FROM post")).scalar_one() == 0


def test_a_post_scheduled_a_moment_ahead_appears_by_itself(client, make_user, make_post):
    """Pages shown (and perhaps kept) before the time must not hide the post after it."""
    alice = make_user("alice", PW)
    make_post(alice, title="Already out", tags="shared")
    soon = utcnow() + timedelta(seconds=1.5)
    make_post(alice, title="Right on time", tags="shared", publish_at=soon)
    paths = ("/", "/tag/shared", "/u/alice", "/feed.atom", "/search?q=time", "/tags")
    for path in paths:
        assert "right-on-time" not in client.get(path).get_data(as_text=True), path
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.05)
    for path in paths[:-1]:
        assert "/2/right-on-time" in client.get(path).get_data(as_text=True), path
    tags = client.get("/tags").get_data(as_text=True)
    assert '<a href="/tag/shared">shared</a> <span class="meta">(2)</span>' in tags


def test_a_status_other_than_draft_or_published_is_refused(app, make_user, make_post):
    from flaskr.validation import ValidationError

    author = make_user("alice", PW)
    with pytest.raises(ValidationError, match="Status must be draft or published."):
        make_post(author, status="hidden")
    with app.app_context():
        assert connection().execute(sa.select(sa.func.count()).select_from(post)).scalar() == 0


def test_an_unknown_stored_time_zone_is_read_as_utc(app, client, auth, make_user):
    """A zone removed from the tz database (or set by hand) must not break the editor."""
    make_user("alice", PW)
    sql(app, "UPDATE \"user\" SET timezone = 'Atlantis/Capital'")
    auth.login("alice", PW)
    assert client.get("/create").status_code == 200
    form = {"title": "Later", "body": "b", "publish_at": "2099-01-01T10:00"}
    assert client.post("/create", data=form).status_code == 302
    assert 'value="2099-01-01T10:00"' in client.get("/1/update").get_data(as_text=True)
    with app.app_context():
        stored = connection().execute(sa.select(post.c.published_at)).scalar_one()
    assert stored == datetime(2099, 1, 1, 10, 0)


# --- dates at the edges of the calendar ------------------------------------------------------

FEED_PATHS = ["/feed.atom", "/feed.rss", "/feed.json", "/u/alice/feed.atom", "/u/alice/feed.rss"]


def _set_zone(client, zone: str) -> None:
    response = client.post("/auth/account/profile", data={"bio": "", "timezone": zone})
    assert response.status_code == 302


def _parse_feeds(client) -> None:
    import json
    from xml.etree import ElementTree as ET

    for path in FEED_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        if path.endswith(".json"):
            json.loads(response.data)
        else:
            ET.fromstring(response.data)


@pytest.mark.parametrize(
    ("zone", "typed"),
    [
        # The two from the review: a UTC time before the year 1, and one after 9999.
        ("Asia/Tokyo", "0001-01-01T00:00"),
        ("America/New_York", "9999-12-31T23:59"),
        # Their neighbours: inside Python's calendar, but outside the accepted years.
        ("Asia/Tokyo", "0001-01-01T09:00"),
        ("UTC", "0001-01-01T00:00"),
        ("America/New_York", "9999-12-31T18:59"),
        ("UTC", "9999-12-31T23:59"),
        ("UTC", "1000-12-31T23:59"),
        ("Pacific/Kiritimati", "9999-01-01T00:00"),
        ("Etc/GMT+12", "9999-01-01T00:00"),
    ],
)
def test_publish_times_outside_the_accepted_years_get_a_message_not_an_error(
    app, client, auth, make_user, make_post, zone, typed
):
    alice = make_user("alice", PW)
    make_post(alice, title="Kept")
    auth.login("alice", PW)
    _set_zone(client, zone)
    message = "Publish time must be in the years 1001 to 9998."
    create = {"title": "New", "body": "b", "publish_at": typed}
    response = client.post("/create", data=create)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    update = {"title": "Changed", "body": "b", "publish_at": typed, "version": "1"}
    response = client.post("/1/update", data=update)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        rows = connection().execute(sa.select(post.c.title, post.c.version)).all()
    assert [tuple(row) for row in rows] == [("Kept", 1)]


@pytest.mark.parametrize(
    ("zone", "typed", "stored"),
    [
        # The first and last accepted minutes, in the zones farthest from UTC at that time.
        ("America/Metlakatla", "1001-01-01T00:00", datetime(1000, 12, 31, 8, 46, 18)),
        ("Asia/Manila", "1001-01-01T00:00", datetime(1001, 1, 1, 15, 56, 8)),
        ("Pacific/Kiritimati", "1001-01-01T00:00", datetime(1001, 1, 1, 10, 29, 20)),
        ("Etc/GMT+12", "9998-12-31T23:59", datetime(9999, 1, 1, 11, 59)),
        ("Etc/GMT-14", "9998-12-31T23:59", datetime(9998, 12, 31, 9, 59)),
    ],
)
def test_the_first_and_last_accepted_minutes_are_stored_and_shown_everywhere(
    app, client, auth, make_user, zone, typed, stored
):
    make_user("alice", PW)
    auth.login("alice", PW)
    _set_zone(client, zone)
    form = {"title": "Edge", "body": "b", "publish_at": typed}
    assert client.post("/create", data=form).status_code == 302
    with app.app_context():
        assert connection().execute(sa.select(post.c.published_at)).scalar_one() == stored
    assert f'value="{typed}"' in client.get("/1/update").get_data(as_text=True)
    for path in ("/1/edge", "/me/posts", "/", "/u/alice", "/sitemap/posts-0.xml"):
        assert client.get(path).status_code == 200, path
    _parse_feeds(client)
    # A reader in the zone farthest the other way still sees the post's page.
    _set_zone(client, "Etc/GMT-14" if stored.year < 5000 else "Etc/GMT+12")
    assert client.get("/1/update").status_code == 200
    # Saving it unchanged is accepted: the editor gives back what it was given.
    update = {"title": "Edge", "body": "b2", "publish_at": typed, "version": "1"}
    _set_zone(client, zone)
    assert client.post("/1/update", data=update).status_code == 302


@pytest.mark.parametrize(
    ("zone", "stored", "shown"),
    [
        # Not representable in the author's zone: the editor shows the UTC time.
        ("America/New_York", "0001-01-01 00:00:00", "0001-01-01T00:00"),
        ("Asia/Tokyo", "9999-12-31 23:59:59", "9999-12-31T23:59"),
        ("Etc/GMT-14", "0001-01-01 00:00:00", "0001-01-01T14:00"),
        ("Etc/GMT+12", "9999-12-31 23:59:59", "9999-12-31T11:59"),
    ],
)
def test_times_stored_by_plain_sql_at_the_calendar_edges_never_break_a_page(
    app, client, auth, make_user, make_post, zone, stored, shown
):
    """Python's calendar runs from the year 1 to 9999 and PostgreSQL's further: a time
    at either end of Python's, written by hand, must not break a page."""
    make_post(make_user("alice", PW), title="Edge")
    sql(app, "UPDATE post SET published_at = :at, updated = :at", at=stored)
    auth.login("alice", PW)
    _set_zone(client, zone)
    editor = client.get("/1/update")
    assert editor.status_code == 200
    assert f'value="{shown}"' in editor.get_data(as_text=True)
    for path in ("/1/edge", "/me/posts", "/1/revisions", "/", "/u/alice", "/sitemap.xml"):
        assert client.get(path).status_code == 200, path
    _parse_feeds(client)


@pytest.mark.parametrize("action", ["draft", "publish"])
def test_one_message_per_save(client, auth, make_user, action):
    make_user("carol", PW)
    auth.login("carol", PW)
    form = {"title": "Saved once", "body": "b", "action": action}
    page = client.post("/create", data=form, follow_redirects=True).get_data(as_text=True)
    assert page.count('class="flash"') == 1
    assert page.count("Only you can see it") == (1 if action == "draft" else 0)
