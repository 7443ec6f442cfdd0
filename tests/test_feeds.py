"""Feeds (Atom, RSS, JSON Feed) for the site, tags and authors; sitemaps and robots.txt."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa
from werkzeug.http import http_date

from flaskr import markup
from flaskr.blog import services as blog_services
from flaskr.blog.tables import post
from flaskr.db import connection, transaction, utcnow
from flaskr.fragments import Fragments

PW = "a long enough pw"
A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEEDS = ["/feed", "/tag/birds/feed", "/u/alice/feed"]
KINDS = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


def iso(text: str) -> datetime:
    """A feed's ISO-8601 time as naive UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def stored(app, post_id: int) -> dict:
    """A post's stored times and rendered HTML."""
    with app.app_context():
        query = sa.select(
            post.c.created, post.c.published_at, post.c.updated, post.c.body_html
        ).where(post.c.id == post_id)
        return dict(connection().execute(query).mappings().one())


def entry_id(app, post_id: int) -> str:
    """The feed entry id a post must have: a tag: URI of its creation time and id."""
    created = stored(app, post_id)["created"]
    return f"tag:localhost,{created.date().isoformat()}:post/{post_id}/{created.time()}"


def settle(app) -> None:
    """Make the posts, the last change and the app's start an hour old.

    Feeds withhold Last-Modified until the newest change is a few seconds old
    (HTTP dates have whole seconds); this is what a client sees after that.
    """
    hour = timedelta(hours=1)
    with app.app_context(), transaction() as conn:
        rows = conn.execute(sa.select(post.c.id, post.c.published_at, post.c.updated)).all()
        for post_id, published_at, updated in rows:
            conn.execute(
                sa.update(post)
                .where(post.c.id == post_id)
                .values(
                    published_at=published_at and published_at - hour,
                    updated=updated and updated - hour,
                )
            )
        # After the posts: their updates moved it to now.
        conn.execute(
            sa.text("UPDATE content_version SET changed_at = :at WHERE id = 1"),
            {"at": utcnow() - hour},
        )
    app.extensions["flaskr.feeds.started"] = utcnow() - hour


#: What a URI may hold (RFC 3986): no spaces, quotes or angle brackets.
URI = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def assert_same_url(url: str, expected: str) -> None:
    """The same address, however its characters are percent-encoded, and a valid URI."""
    assert URI.fullmatch(url), url
    assert unquote(url) == unquote(expected)


def atom(client, path: str) -> ET.Element:
    """Fetch and parse an Atom feed, checking what every Atom document must have."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{A}{name}").text, name
    iso(root.find(f"{A}updated").text)
    (self_link,) = [link for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert_same_url(self_link.get("href"), f"http://localhost{path}")
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated", "published"):
            assert entry.find(f"{A}{name}").text, name
        iso(entry.find(f"{A}updated").text)
        assert entry.find(f"{A}link").get("href").startswith("http://localhost/")
        assert entry.find(f"{A}author/{A}name").text
    return root


def rss(client, path: str) -> ET.Element:
    """Fetch and parse an RSS feed, checking its required elements; return the channel."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/rss+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert channel.find(name).text, name
    for item in channel.findall("item"):
        for name in ("title", "link", "guid", "pubDate"):
            assert item.find(name).text, name
        assert parsedate_to_datetime(item.find("pubDate").text).tzinfo is not None
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:localhost,")
    return channel


def json_feed(client, path: str) -> dict:
    """Fetch and parse a JSON Feed, checking its required members."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/feed+json"
    document = json.loads(response.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"]
    assert_same_url(document["feed_url"], f"http://localhost{path}")
    for item in document["items"]:
        assert item["id"] and item["url"].startswith("http://localhost/")
        iso(item["date_published"])
        assert "content_html" in item or "content_text" in item
    return document


@pytest.fixture
def blog(app, make_user, make_post) -> dict[str, int]:
    """Alice's two posts tagged birds (one with hostile text), bob's untagged post, a draft."""
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    return {
        "first": make_post(alice, title="First sparrow", body="Tiny *birds*.", tags="birds"),
        "bob": make_post(bob, title="Bob's post", body="Not about birds."),
        "second": make_post(
            alice,
            title="Robins & <wrens>",
            body="**Bold** <script>alert(1)</script> [x](javascript:alert(2))",
            tags="birds, gardens",
        ),
        "draft": make_post(alice, title="Hidden draft", body="x", tags="birds", status="draft"),
    }


# --- formats ----------------------------------------------------------------------------


def test_the_site_atom_feed(app, client, blog):
    root = atom(client, "/feed.atom")
    assert root.find(f"{A}title").text == "Flaskr"
    assert root.find(f"{A}id").text == "http://localhost/feed.atom"
    entries = root.findall(f"{A}entry")
    assert [e.find(f"{A}title").text for e in entries] == [
        "Robins & <wrens>",
        "Bob's post",
        "First sparrow",
    ]
    newest = entries[0]
    url = f"http://localhost/{blog['second']}/robins-wrens"
    assert newest.find(f"{A}id").text == entry_id(app, blog["second"])
    assert newest.find(f"{A}link").get("href") == url
    assert newest.find(f"{A}author/{A}name").text == "alice"
    assert sorted(c.get("term") for c in newest.findall(f"{A}category")) == ["birds", "gardens"]
    content = newest.find(f"{A}content")
    assert content.get("type") == "html"
    assert content.text == stored(app, blog["second"])["body_html"]
    assert "<strong>Bold</strong>" in content.text
    assert "<script>" not in content.text and 'href="javascript' not in content.text
    published = stored(app, blog["second"])["published_at"]
    assert abs(iso(newest.find(f"{A}published").text) - published) < timedelta(seconds=1)
    assert iso(root.find(f"{A}updated").text) == iso(newest.find(f"{A}updated").text)


def test_the_site_rss_feed(app, client, blog):
    channel = rss(client, "/feed.rss")
    assert channel.find("title").text == "Flaskr"
    assert channel.find("link").text == "http://localhost/"
    assert channel.find("description").text == "A blog"
    items = channel.findall("item")
    assert [i.find("title").text for i in items] == [
        "Robins & <wrens>",
        "Bob's post",
        "First sparrow",
    ]
    newest = items[0]
    assert newest.find("link").text == f"http://localhost/{blog['second']}/robins-wrens"
    assert newest.find("description").text == stored(app, blog["second"])["body_html"]
    published = parsedate_to_datetime(newest.find("pubDate").text)
    expected = stored(app, blog["second"])["published_at"].replace(tzinfo=UTC)
    assert abs(published - expected) < timedelta(seconds=1)


def test_the_site_json_feed(app, client, blog):
    document = json_feed(client, "/feed.json")
    assert document["title"] == "Flaskr"
    assert document["home_page_url"] == "http://localhost/"
    items = document["items"]
    assert [i["title"] for i in items] == ["Robins & <wrens>", "Bob's post", "First sparrow"]
    newest = items[0]
    assert newest["url"] == f"http://localhost/{blog['second']}/robins-wrens"
    assert newest["id"] == entry_id(app, blog["second"])
    assert newest["content_html"] == stored(app, blog["second"])["body_html"]
    assert newest["authors"] == [{"name": "alice"}]
    assert newest["tags"] == ["birds", "gardens"]
    published = stored(app, blog["second"])["published_at"]
    assert abs(iso(newest["date_published"]) - published) < timedelta(seconds=1)


#: Each feed's home page: the page its posts are listed on.
HOMES = {"/feed": "/", "/tag/birds/feed": "/tag/birds", "/u/alice/feed": "/u/alice"}


@pytest.mark.parametrize("base_url", ["http://localhost", "https://blog.example"])
@pytest.mark.parametrize("base", FEEDS)
def test_every_feed_links_its_home_page_by_its_absolute_address(client, blog, base, base_url):
    home = f"{base_url}{HOMES[base]}"
    response = client.get(f"{base}.atom", base_url=base_url)
    links = ET.fromstring(response.data).findall(f"{A}link")
    (alternate,) = [link for link in links if link.get("rel") == "alternate"]
    assert alternate.get("href") == home
    assert alternate.get("type") == "text/html"
    channel = ET.fromstring(client.get(f"{base}.rss", base_url=base_url).data).find("channel")
    assert channel.find("link").text == home
    document = json.loads(client.get(f"{base}.json", base_url=base_url).data)
    assert document["home_page_url"] == home


def test_one_process_writes_each_request_s_own_site_address(client, blog):
    # The origin and the tag: authority are kept per scheme and Host: the same
    # server, asked under each in turn, never writes one for another. Each request
    # differs from the one before it in one of them only.
    for options, home, authority in [
        ({}, "http://localhost/", "localhost"),
        (
            {"headers": {"Host": "other.example:8080"}},
            "http://other.example:8080/",
            "other.example",
        ),
        ({}, "http://localhost/", "localhost"),
        ({"environ_overrides": {"wsgi.url_scheme": "https"}}, "https://localhost/", "localhost"),
        ({"base_url": "http://localhost/blog/"}, "http://localhost/blog/", "localhost"),
        ({}, "http://localhost/", "localhost"),
    ]:
        document = json.loads(client.get("/feed.json", **options).data)
        assert document["home_page_url"] == home
        assert document["items"][0]["url"].startswith(home)
        assert document["items"][0]["id"].startswith(f"tag:{authority},")


def test_the_site_addresses_a_process_keeps_are_bounded(app, client, blog, monkeypatch):
    # The Host header is the sender's to choose: past the limit, addresses are made
    # for each request and not kept.
    from flaskr.feeds import views

    monkeypatch.setattr(views, "MAX_ADDRESSES", 3)
    for n in range(6):
        response = client.get("/feed.json", headers={"Host": f"h{n}.example"})
        assert json.loads(response.data)["home_page_url"] == f"http://h{n}.example/"
    assert len(app.extensions["flaskr.feeds.addresses"]) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_tag_feed_has_only_that_tags_posts(client, blog, kind):
    text = client.get(f"/tag/birds/feed.{kind}").get_data(as_text=True)
    assert "First sparrow" in text and "Robins" in text
    assert "Bob&#x27;s" not in text and "Bob's" not in text and "Hidden draft" not in text
    assert "birds" in text  # its title names the tag


@pytest.mark.parametrize("kind", KINDS)
def test_an_author_feed_has_only_that_authors_posts(client, blog, kind):
    text = client.get(f"/u/bob/feed.{kind}").get_data(as_text=True)
    assert "Bob" in text
    assert "sparrow" not in text and "Robins" not in text


def test_every_feed_parses(client, blog):
    for base in FEEDS:
        atom(client, f"{base}.atom")
        rss(client, f"{base}.rss")
        json_feed(client, f"{base}.json")


def test_feeds_without_posts_are_valid_and_empty(client, make_user):
    make_user("alice", PW)
    for base in ("/feed", "/u/alice/feed"):
        assert atom(client, f"{base}.atom").findall(f"{A}entry") == []
        assert rss(client, f"{base}.rss").findall("item") == []
        assert json_feed(client, f"{base}.json")["items"] == []


def test_summary_only_feeds(make_app, make_user, make_post):
    make_post(
        make_user("alice", PW),
        title="Long",
        body="Some **bold** opening words.\n\n" + "more " * 100,
    )
    client = make_app(FEED_FULL_CONTENT=False).test_client()
    entry = atom(client, "/feed.atom").find(f"{A}entry")
    assert entry.find(f"{A}content") is None
    summary = entry.find(f"{A}summary").text
    assert summary.startswith("Some bold opening words. more more")
    assert len(summary) <= markup.SUMMARY_MAX + 1 and summary.endswith("…")
    item = rss(client, "/feed.rss").find("item")
    assert item.find("description").text == summary
    (json_item,) = json_feed(client, "/feed.json")["items"]
    assert "content_html" not in json_item
    assert json_item["content_text"] == json_item["summary"] == summary


@pytest.mark.parametrize("full", [True, False])
def test_a_post_without_words_has_an_empty_summary(make_app, make_user, make_post, full):
    """A photo alone, or a rule: nothing to summarize, and no filler in its place."""
    alice = make_user("alice", PW)
    make_post(alice, title="Photo", body="![](https://images.example/bird.png)")
    make_post(alice, title="Rule", body="***")
    client = make_app(FEED_FULL_CONTENT=full).test_client()
    for entry in atom(client, "/feed.atom").findall(f"{A}entry"):
        assert entry.find(f"{A}summary").text in (None, "")
    if not full:
        for item in rss(client, "/feed.rss").findall("item"):
            assert item.find("description").text in (None, "")
    for item in json_feed(client, "/feed.json")["items"]:
        assert item["summary"] == ""
        assert item.get("content_text", "") == ""


def test_a_feed_holds_the_newest_feed_items_posts(make_app, make_user, make_post):
    alice = make_user("alice", PW)
    for number in range(5):
        make_post(alice, title=f"Post {number}")
    client = make_app(FEED_ITEMS=3).test_client()
    titles = [e.find(f"{A}title").text for e in atom(client, "/feed.atom").findall(f"{A}entry")]
    assert titles == ["Post 4", "Post 3", "Post 2"]
    assert len(json_feed(client, "/feed.json")["items"]) == 3
    assert len(rss(client, "/feed.rss").findall("item")) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/tag/nosuchtag/feed.atom",
        "/tag/nosuchtag/feed.rss",
        "/tag/nosuchtag/feed.json",
        "/u/nobody/feed.atom",
        "/u/nobody/feed.rss",
        "/u/nobody/feed.json",
        "/feed.xml",
        "/feed.",
        "/tag/birds/feed.html",
    ],
)
def test_unknown_feeds_are_404(client, blog, path):
    assert client.get(path).status_code == 404


# --- updates and conditional requests ------------------------------------------------------


def test_an_edit_shows_in_the_updated_dates(app, client, auth, blog):
    before = atom(client, "/feed.atom")
    old_updated = iso(before.find(f"{A}updated").text)
    with app.app_context(), transaction() as conn:
        # Move the first post back in time, so the edit is clearly later.
        conn.execute(
            sa.update(post)
            .values(published_at=datetime(2020, 1, 1), updated=None)
            .where(post.c.id == blog["first"])
        )
    auth.login("alice", PW)
    form = {"title": "First sparrow", "body": "Edited.", "tags": "birds", "version": "1"}
    assert client.post(f"/{blog['first']}/update", data=form).status_code == 302
    auth.logout()
    root = atom(client, "/feed.atom")
    (entry,) = [e for e in root.findall(f"{A}entry") if e.find(f"{A}title").text == "First sparrow"]
    edited = stored(app, blog["first"])["updated"]
    assert abs(iso(entry.find(f"{A}updated").text) - edited) < timedelta(seconds=1)
    assert iso(entry.find(f"{A}published").text) == datetime(2020, 1, 1)
    assert iso(root.find(f"{A}updated").text) >= old_updated
    assert abs(iso(root.find(f"{A}updated").text) - edited) < timedelta(seconds=1)
    assert "Edited." in entry.find(f"{A}content").text
    (item,) = [i for i in json_feed(client, "/feed.json")["items"] if i["title"] == "First sparrow"]
    assert abs(iso(item["date_modified"]) - edited) < timedelta(seconds=1)


def test_feeds_answer_conditional_requests(app, client, blog):
    settle(app)
    for base in FEEDS:
        for kind in KINDS:
            _check_conditional_requests(client, f"{base}.{kind}", KINDS[kind])


def _check_conditional_requests(client, path: str, mimetype: str) -> None:
    response = client.get(path)
    etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    assert etag and last_modified, path
    assert response.mimetype == mimetype
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304, path
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200


def test_a_changed_post_changes_the_etag(client, auth, blog):
    etags = {
        path: client.get(path).headers["ETag"] for path in ("/feed.atom", "/tag/birds/feed.rss")
    }
    auth.login("alice", PW)
    form = {"title": "First sparrow", "body": "Changed", "tags": "birds", "version": "1"}
    assert client.post(f"/{blog['first']}/update", data=form).status_code == 302
    auth.logout()
    for path, etag in etags.items():
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200, path
        assert response.headers["ETag"] != etag
        assert "Changed" in response.get_data(as_text=True)


def test_a_new_post_changes_the_etag(client, blog, make_post):
    etag = client.get("/feed.json").headers["ETag"]
    make_post(1, title="Newest")
    response = client.get("/feed.json", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert json.loads(response.data)["items"][0]["title"] == "Newest"


def test_every_feeds_etag_is_a_strong_validator_of_128_bits(client, blog):
    """Strong: byte-for-byte the same document; 128 bits of SHA-256 never collide by chance."""
    for path in ALL_FEEDS:
        etag = client.get(path).headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), (path, etag)


def test_the_etag_differs_between_formats_and_settings(make_app, blog):
    client = make_app().test_client()
    etags = {client.get(f"/feed.{kind}").headers["ETag"] for kind in KINDS}
    summary_client = make_app(FEED_FULL_CONTENT=False).test_client()
    etags.add(summary_client.get("/feed.atom").headers["ETag"])
    assert len(etags) == 4


# --- Last-Modified moves whenever a feed changes (clients that send only If-Modified-Since) ---

ALL_FEEDS = [f"{base}.{kind}" for base in FEEDS for kind in KINDS]


def _last_modified_of(client, path: str) -> str:
    """The feed's Last-Modified, checked to give a 304 as it stands."""
    value = client.get(path).headers.get("Last-Modified")
    assert value, path
    assert client.get(path, headers={"If-Modified-Since": value}).status_code == 304, path
    return value


def _set_last_change(app, ago: timedelta) -> None:
    """Count one more write, dated this long ago (as if that much time had passed since)."""
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text(
                "UPDATE content_version SET version = version + 1, changed_at = :at WHERE id = 1"
            ),
            {"at": utcnow() - ago},
        )


def _backdated_post(app, blog):
    from flaskr.blog import services

    with app.app_context():
        draft = services.Draft(
            title="From the archive", body="old", tags="birds", publish_at=datetime(2020, 1, 1)
        )
        services.create_post(1, draft)


def _deleted_newest(app, blog):
    from flaskr.blog import services

    with app.app_context():
        services.delete_post(blog["second"])


def _edited_by_plain_sql(app, blog):
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post).where(post.c.id == blog["first"]).values(title="Retitled"))


def _tag_renamed_by_plain_sql(app, blog):
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE tag SET name = 'songbirds' WHERE name = 'gardens'"))


@pytest.mark.parametrize(
    "change", [_backdated_post, _deleted_newest, _edited_by_plain_sql, _tag_renamed_by_plain_sql]
)
def test_a_change_that_moves_no_entry_date_still_moves_last_modified(app, client, blog, change):
    """A backdated post, a deletion or a plain-SQL edit leaves the newest entry date where
    it was (or moves it back); a client holding the old Last-Modified must get the feed."""
    settle(app)
    before = {path: _last_modified_of(client, path) for path in ALL_FEEDS}
    change(app, blog)
    # Half an hour on, with nothing else changed: only the change itself is newer.
    _set_last_change(app, timedelta(minutes=30))
    for path, since in before.items():
        response = client.get(path, headers={"If-Modified-Since": since})
        assert response.status_code == 200, path
        assert response.data
        again = response.headers["Last-Modified"]
        assert parsedate_to_datetime(again) > parsedate_to_datetime(since), path
        assert client.get(path, headers={"If-Modified-Since": again}).status_code == 304, path


def test_an_edit_through_the_editor_moves_last_modified(app, client, auth, blog):
    settle(app)
    since = _last_modified_of(client, "/feed.atom")
    auth.login("alice", PW)
    form = {"title": "First sparrow", "body": "Edited", "tags": "birds", "version": "1"}
    assert client.post(f"/{blog['first']}/update", data=form).status_code == 302
    auth.logout()
    response = client.get("/feed.atom", headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert b"Edited" in response.data


def test_a_scheduled_post_appearing_without_any_write_moves_last_modified(
    app, client, make_user, make_post, monkeypatch
):
    from flaskr.feeds import views

    # Short, so the test need not wait: this test is about the post's own time.
    monkeypatch.setattr(views, "SETTLE", timedelta(seconds=0.3))
    alice = make_user("alice", PW)
    make_post(alice, title="Already out")
    # Two seconds ahead: the two requests below must both come before it, even
    # on a machine loaded by both suites at once (half a second was not enough).
    soon = utcnow() + timedelta(hours=1, seconds=2)
    make_post(alice, title="Right on time", publish_at=soon)
    settle(app)  # everything an hour back: the scheduled post is two seconds away
    since = {path: _last_modified_of(client, path) for path in ("/feed.atom", "/u/alice/feed.rss")}
    appears = soon - timedelta(hours=1)
    time.sleep(max(0.0, (appears - utcnow()).total_seconds()) + 0.35)
    for path, value in since.items():
        response = client.get(path, headers={"If-Modified-Since": value})
        assert response.status_code == 200, path
        assert b"Right on time" in response.data
        shown = parsedate_to_datetime(response.headers["Last-Modified"]).replace(tzinfo=None)
        assert appears <= shown < appears + timedelta(seconds=1)


@pytest.mark.parametrize("microsecond", [0, 250_000])
@pytest.mark.parametrize("latest", ["change", "start", "published", "edited"])
def test_last_modified_is_the_latest_of_the_last_change_the_start_and_every_entry(
    app, client, blog, latest, microsecond
):
    """Rounded up to the second HTTP dates have, so that the date itself gives a 304."""
    base = utcnow().replace(microsecond=0) - timedelta(hours=2)
    dates = dict.fromkeys(("change", "start", "published", "edited"), base)
    dates[latest] = base + timedelta(minutes=30, microseconds=microsecond)
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.update(post).values(published_at=dates["published"], updated=dates["edited"])
        )
        conn.execute(
            sa.text("UPDATE content_version SET changed_at = :at WHERE id = 1"),
            {"at": dates["change"]},
        )
    app.extensions["flaskr.feeds.started"] = dates["start"]
    expected = base + timedelta(minutes=30, seconds=1 if microsecond else 0)
    for path in ALL_FEEDS:
        response = client.get(path)
        assert response.headers["Last-Modified"] == http_date(expected), path
        since = {"If-Modified-Since": http_date(expected)}
        assert client.get(path, headers=since).status_code == 304, path
        before = {"If-Modified-Since": http_date(expected - timedelta(seconds=1))}
        assert client.get(path, headers=before).status_code == 200, path


@pytest.mark.parametrize("path", ALL_FEEDS)
def test_any_cache_may_keep_a_feed_for_five_minutes(app, client, blog, path):
    settle(app)
    first = client.get(path)
    kept = client.get(path)  # this time from the page cache
    unchanged = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304
    for response in (first, kept, unchanged):
        directives = sorted(part.strip() for part in response.headers["Cache-Control"].split(","))
        assert directives == ["max-age=300", "public"], path


@pytest.fixture
def stopped_clock(monkeypatch) -> datetime:
    """The feeds' utcnow(), stopped at the moment it returns."""
    from flaskr.feeds import views

    now = datetime(2030, 6, 1, 12, 0, 0, 500_000)
    monkeypatch.setattr(views, "utcnow", lambda: now)
    return now


def test_last_modified_is_vouched_for_from_the_moment_the_change_is_settle_old(stopped_clock):
    from flaskr.feeds.views import SETTLE, _last_modified

    started = stopped_clock - timedelta(days=1)
    for age, vouched in ((SETTLE, True), (SETTLE - timedelta(microseconds=1), False)):
        change = {"version": 3, "changed_at": stopped_clock - age}
        expected = stopped_clock - age if vouched else None
        assert _last_modified(change, started, None) == expected, age


def test_last_modified_is_the_latest_of_its_three_sources(stopped_clock):
    from flaskr.feeds.views import _last_modified

    old, older, oldest = (stopped_clock - timedelta(hours=h) for h in (1, 2, 3))
    for change_at, started, newest in (
        (old, older, oldest),
        (older, old, oldest),
        (oldest, older, old),
    ):
        assert _last_modified({"version": 3, "changed_at": change_at}, started, newest) == old
    assert _last_modified({"version": 3, "changed_at": older}, old, None) == old


def test_without_a_recorded_change_last_modified_is_not_vouched_for(stopped_clock):
    from flaskr.feeds.views import _last_modified

    day = stopped_clock - timedelta(days=1)
    assert _last_modified(None, day, day) is None
    assert _last_modified({"version": 3, "changed_at": None}, day, day) is None


def test_last_modified_is_withheld_until_a_change_is_seconds_old(app, client, blog):
    """HTTP dates have whole seconds: a Last-Modified given out in the second of a change
    would match a second change in that same second."""
    settle(app)
    for ago, sent in ((timedelta(seconds=1), False), (timedelta(seconds=3), True)):
        for path in ALL_FEEDS:
            # Dated afresh for each feed: under a loaded CI machine the nine requests
            # took over a second, and the last ones met a change over two seconds old.
            _set_last_change(app, ago)
            response = client.get(path)
            assert ("Last-Modified" in response.headers) is sent, (path, ago)
            if sent:
                modified = parsedate_to_datetime(response.headers["Last-Modified"])
                assert modified <= datetime.now(UTC) - timedelta(seconds=1), path
    # While it is withheld, no date a client sends, however late, gets a 304 either.
    late = "Fri, 01 Jan 2100 00:00:00 GMT"
    for path in ALL_FEEDS:
        _set_last_change(app, timedelta(seconds=1))
        assert client.get(path, headers={"If-Modified-Since": late}).status_code == 200, path


def test_two_changes_in_one_second_never_give_a_stale_304(app, client, blog):
    """A client that read the feed between them holds at best the response's Date."""
    settle(app)
    for title in ("Once", "Twice"):
        with app.app_context(), transaction() as conn:
            conn.execute(sa.update(post).where(post.c.id == blog["first"]).values(title=title))
        response = client.get("/feed.json")
        assert title.encode() in response.data
        assert "Last-Modified" not in response.headers
        date = http_date(datetime.now(UTC))  # what the server's Date header says
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post).where(post.c.id == blog["first"]).values(title="Thrice"))
    response = client.get("/feed.json", headers={"If-Modified-Since": date})
    assert response.status_code == 200
    assert b"Thrice" in response.data


def test_a_restart_with_other_settings_moves_last_modified(app, make_app, client, blog):
    settle(app)
    since = _last_modified_of(client, "/feed.atom")
    restarted = make_app(FEED_FULL_CONTENT=False)
    restarted.extensions["flaskr.feeds.started"] = utcnow() - timedelta(minutes=30)
    response = restarted.test_client().get("/feed.atom", headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert b"<content" not in response.data


def test_without_the_change_counter_if_modified_since_never_gives_a_304(app, client, blog):
    """A hand-emptied content_version: nothing vouches for a date, the ETag still works."""
    settle(app)
    since = _last_modified_of(client, "/feed.atom")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("DELETE FROM content_version"))
    response = client.get("/feed.atom", headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert "Last-Modified" not in response.headers
    etag = response.headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": etag}).status_code == 304


def test_plain_sql_changes_to_authors_and_tags_change_the_etag(app, client, blog):
    """Such writes leave every post's version alone, but not what the feed shows."""
    etags = {path: client.get(path).headers["ETag"] for path in ("/feed.atom", "/feed.json")}
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE \"user\" SET username = 'alicia' WHERE username = 'alice'"))
        conn.execute(sa.text("UPDATE tag SET name = 'songbirds' WHERE name = 'gardens'"))
    for path, etag in etags.items():
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200, path
        assert b"alicia" in response.data and b"songbirds" in response.data


def test_the_migration_adds_changed_at_and_takes_it_away_again(make_app, empty_database):
    """0005 on a database that has data, then down to 0002 and up again."""
    from alembic import command
    from alembic.config import Config

    app = make_app(**empty_database, AUTO_MIGRATE=False)

    def migrate(step, target: str) -> None:
        with app.app_context(), connection().engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # as `flaskr upgrade` runs them: 0003 rebuilds tables
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    config = Config()
                    config.set_main_option("script_location", "flaskr:migrations")
                    config.attributes["connection"] = conn
                    step(config, target)
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")

    def counter(*columns: str) -> tuple:
        query = sa.text(f"SELECT {', '.join(columns)} FROM content_version")  # noqa: S608
        with app.app_context():
            return tuple(connection().execute(query.columns(changed_at=sa.DateTime)).one())

    migrate(command.upgrade, "0002")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("INSERT INTO \"user\" (username, password) VALUES ('ann', 'x')"))
    assert counter("id", "version") == (1, 2)
    before = utcnow()
    migrate(command.upgrade, "0005")
    version, changed_at = counter("version", "changed_at")
    assert version == 2 and before - timedelta(seconds=1) <= changed_at <= utcnow()
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE \"user\" SET bio = 'hi'"))
    version, later = counter("version", "changed_at")
    assert version == 3 and later >= changed_at
    migrate(command.downgrade, "0002")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE \"user\" SET bio = 'again'"))
    assert counter("*") == (1, 4)  # the column is gone, the counter still counts
    migrate(command.upgrade, "head")
    assert counter("version") == (4,)


@pytest.mark.parametrize(
    ("path", "links"),
    [
        ("/", ["/feed.atom", "/feed.rss", "/feed.json"]),
        ("/tag/birds", ["/tag/birds/feed.atom", "/tag/birds/feed.rss", "/tag/birds/feed.json"]),
        ("/u/alice", ["/u/alice/feed.atom", "/u/alice/feed.rss", "/u/alice/feed.json"]),
    ],
)
def test_pages_link_their_feeds_for_autodiscovery(client, blog, path, links):
    page = client.get(path).get_data(as_text=True)
    for href, mimetype in zip(links, KINDS.values(), strict=True):
        assert f'<link rel="alternate" type="{mimetype}"' in page
        tag_start = page.index(f'href="{href}"')
        tag = page[page.rindex("<", 0, tag_start) : page.index(">", tag_start)]
        assert tag.startswith('<link rel="alternate"') and f'type="{mimetype}"' in tag, tag


def _feed_documents(client, path: str):
    """(kind, parsed document) for the three formats of one feed."""
    return [("atom", atom(client, f"{path}.atom")), ("rss", rss(client, f"{path}.rss"))] + [
        ("json", json_feed(client, f"{path}.json"))
    ]


# --- entry ids: unique forever ------------------------------------------------------------


def _entry_ids(client, path: str = "/feed") -> dict[str, list[str]]:
    """The entry ids of one feed in each format, newest first."""
    return {
        "atom": [e.find(f"{A}id").text for e in atom(client, f"{path}.atom").findall(f"{A}entry")],
        "rss": [i.find("guid").text for i in rss(client, f"{path}.rss").findall("item")],
        "json": [i["id"] for i in json_feed(client, f"{path}.json")["items"]],
    }


#: RFC 4151: tag:<DNS name>,<YYYY-MM-DD>:<specific>, the specific part URI path characters.
TAG_URI = re.compile(
    r"tag:[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*,"
    r"\d{4}-\d{2}-\d{2}:[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]+"
)


def test_entry_ids_are_tag_uris_of_creation_time_and_id(app, client, blog):
    ids = _entry_ids(client)
    assert ids["atom"] == ids["rss"] == ids["json"]
    expected = [entry_id(app, blog[name]) for name in ("second", "bob", "first")]
    assert ids["atom"] == expected
    assert all(TAG_URI.fullmatch(value) for value in expected), expected


@pytest.mark.parametrize(
    ("base_url", "authority"),
    [
        ("http://Blog.Example:8080", "blog.example"),
        ("https://blog.example.", "blog.example"),
        ("http://[::1]:5000", "invalid"),
        ("http://127.0.0.1", "127.0.0.1"),
        # An IDNA name: entry ids have always said "invalid" for it, and keep to it.
        ("http://xn--bcher-kva.example", "invalid"),
        ("http://Blog.xn--bcher-kva.Example:8080", "invalid"),
    ],
)
def test_the_tag_uri_authority_is_the_host_name_without_port(client, blog, base_url, authority):
    response = client.get("/feed.json", base_url=base_url)
    ids = [item["id"] for item in json.loads(response.data)["items"]]
    assert all(value.startswith(f"tag:{authority},") for value in ids), ids
    assert all(TAG_URI.fullmatch(value) for value in ids), ids


def test_an_entry_keeps_its_id_when_its_title_changes(app, client, auth, blog):
    before = _entry_ids(client)
    auth.login("alice", PW)
    form = {"title": "A new name", "body": "b", "tags": "birds", "version": "1"}
    assert client.post(f"/{blog['first']}/update", data=form).status_code == 302
    auth.logout()
    after = _entry_ids(client)
    assert after == before
    json_items = json_feed(client, "/feed.json")["items"]
    (renamed,) = [item for item in json_items if item["title"] == "A new name"]
    assert renamed["url"].endswith("/a-new-name")  # the link moves, the id does not
    assert renamed["id"] == entry_id(app, blog["first"])


def test_two_posts_that_had_the_same_id_at_different_times_have_different_entry_ids(
    app, client, make_user, make_post
):
    """An old SQLite database reuses the newest post's id after it is deleted."""
    alice = make_user("alice", PW)
    post_id = make_post(alice, title="Hello", body="the first post")
    first = _entry_ids(client)
    with app.app_context(), transaction() as conn:
        conn.execute(sa.delete(post).where(post.c.id == post_id))
        conn.execute(
            sa.insert(post).values(
                id=post_id,
                author_id=alice,
                title="Hello",
                body="another post that got the same id",
                created=utcnow() + timedelta(seconds=1),
                published_at=utcnow(),
            )
        )
    second = _entry_ids(client)
    for kind in KINDS:
        assert len(first[kind]) == len(second[kind]) == 1
        assert first[kind] != second[kind], kind
    assert second["atom"] == [entry_id(app, post_id)]


# --- escaping: what a reader shows ---------------------------------------------------------

#: Text that would be markup if it reached a reader unescaped.
HOSTILE_TITLE = "Robins & <wrens> <script>alert('t')</script> &amp; \"q\""
HOSTILE_BODY = (
    "Hello <script>alert('s')</script> & <b>bold</b> &amp;lt; <img src=x onerror=alert(1)>"
)
HOSTILE_NAME = "<b>al</b> & \"ice\" <script>alert('a')</script>"
HOSTILE_TAG = "<script>birds&amp;<b>"  # no slash: a tag's address is one path segment
HOSTILE_SITE = '<em>Site</em> & "Co" <script>x</script>'


class _Shown(HTMLParser):
    """What a feed reader shows for an HTML field: its text, and which elements it made."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.parts: list[str] = []
        self.feed(source)
        self.close()
        self.text = "".join(self.parts)

    def handle_starttag(self, tag, attrs):
        self.elements.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.parts.append(data)


def _assert_safe_html(source: str) -> _Shown:
    shown = _Shown(source)
    assert "script" not in shown.elements, source
    assert not any(name.startswith("on") for name, _ in shown.attributes), source
    return shown


@pytest.fixture
def hostile(app, make_user, make_post) -> dict[str, str]:
    """A post whose title, body, author and tag carry markup; the names set by plain SQL
    (a username or tag may hold anything a script put there)."""
    alice = make_user("alice", PW)
    make_post(alice, title=HOSTILE_TITLE, body=HOSTILE_BODY, tags="birds")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text('UPDATE "user" SET username = :name'), {"name": HOSTILE_NAME})
        conn.execute(sa.text("UPDATE tag SET name = :name"), {"name": HOSTILE_TAG})
    summary = markup.summarize(HOSTILE_BODY)
    assert "<script>" in summary  # plain text that looks like markup: the case at stake
    return {"summary": summary}


def _feed_paths() -> dict[str, tuple[str, str]]:
    """feed -> (path, the feed's own title)."""
    return {
        "site": ("/feed", HOSTILE_SITE),
        "tag": (f"/tag/{quote(HOSTILE_TAG, safe='')}/feed", f"{HOSTILE_SITE}: {HOSTILE_TAG}"),
        "author": (f"/u/{quote(HOSTILE_NAME, safe='')}/feed", f"{HOSTILE_SITE}: {HOSTILE_NAME}"),
    }


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("feed", ["site", "tag", "author"])
def test_every_field_of_every_feed_is_escaped_for_what_its_format_means(
    make_app, hostile, feed, full
):
    client = make_app(SITE_NAME=HOSTILE_SITE, FEED_FULL_CONTENT=full).test_client()
    path, feed_title = _feed_paths()[feed]
    summary = hostile["summary"]

    # Atom: title, subtitle, name, summary and category are text; content is HTML.
    root = atom(client, f"{path}.atom")
    assert root.find(f"{A}title").text == feed_title
    assert root.find(f"{A}title").get("type") in (None, "text")
    (entry,) = root.findall(f"{A}entry")
    assert entry.find(f"{A}title").text == HOSTILE_TITLE
    assert entry.find(f"{A}title").get("type") in (None, "text")
    assert entry.find(f"{A}author/{A}name").text == HOSTILE_NAME
    assert [c.get("term") for c in entry.findall(f"{A}category")] == [HOSTILE_TAG]
    assert entry.find(f"{A}summary").text == summary
    assert entry.find(f"{A}summary").get("type") in (None, "text")
    content = entry.find(f"{A}content")
    if full:
        assert content.get("type") == "html"
        assert "<script>alert('s')</script>" in _assert_safe_html(content.text).text
    else:
        assert content is None

    # RSS: every element is plain text but the item description, which is HTML.
    response = client.get(f"{path}.rss")
    raw = response.data
    assert b"<script" not in raw and b"&lt;" not in raw and b"&amp;" not in raw
    assert b"&#x3C;script" in raw  # the references the RSS Best Practices Profile asks for
    channel = rss(client, f"{path}.rss")
    assert channel.find("title").text == feed_title
    (item,) = channel.findall("item")
    assert item.find("title").text == HOSTILE_TITLE
    assert item.find("author").text == f"noreply@invalid ({HOSTILE_NAME})"
    assert [c.text for c in item.findall("category")] == [HOSTILE_TAG]
    shown = _assert_safe_html(item.find("description").text)
    if full:
        assert "<script>alert('s')</script>" in shown.text
    else:
        assert shown.elements == [] and shown.text == summary

    # JSON Feed: plain strings, and HTML only in content_html.
    document = json_feed(client, f"{path}.json")
    assert document["title"] == feed_title
    (item,) = document["items"]
    assert item["title"] == HOSTILE_TITLE
    assert item["authors"] == [{"name": HOSTILE_NAME}]
    assert item["tags"] == [HOSTILE_TAG]
    assert item["summary"] == summary
    if full:
        assert "<script>alert('s')</script>" in _assert_safe_html(item["content_html"]).text
    else:
        assert item["content_text"] == summary and "content_html" not in item


def test_feed_descriptions_are_plain_text_in_every_format(client, hostile):
    path = f"/u/{quote(HOSTILE_NAME, safe='')}/feed"
    assert atom(client, f"{path}.atom").find(f"{A}subtitle").text == f"Posts by {HOSTILE_NAME}"
    assert rss(client, f"{path}.rss").find("description").text == f"Posts by {HOSTILE_NAME}"
    assert json_feed(client, f"{path}.json")["description"] == f"Posts by {HOSTILE_NAME}"


# --- any character stored by plain SQL --------------------------------------------------------

#: Characters XML forbids (C0 controls, U+FFFE, U+FFFF) or discourages (DEL, C1,
#: the other non-characters); NUL only where the database can store it.
ODD = "\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\ufdd0\ufdef\ufffe\uffff\U0001fffe\U0010ffff"


def _odd_characters(db_kind: str) -> str:
    return ODD + ("\x00" if db_kind == "sqlite" else "")  # PostgreSQL text has no NUL


@pytest.mark.parametrize("full", [True, False])
def test_feeds_stay_valid_whatever_characters_plain_sql_stored(
    make_app, make_user, make_post, db_kind, full
):
    odd = _odd_characters(db_kind)
    app = make_app(FEED_FULL_CONTENT=full)
    client = app.test_client()
    make_post(make_user("alice", PW), title="Clean", tags="birds")
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text(
                "UPDATE post SET title = :text, body = :text, body_html = NULL, summary = NULL"
            ),
            {"text": f"a{odd}b"},
        )
        conn.execute(sa.text('UPDATE "user" SET username = :text'), {"text": f"n{odd}"})
        conn.execute(sa.text("INSERT INTO tag (name) VALUES (:text)"), {"text": f"t{odd}"})
        conn.execute(
            sa.text(
                "INSERT INTO post_tag (post_id, tag_id) SELECT 1, id FROM tag WHERE name <> 'birds'"
            )
        )
    replaced = "\ufffd" * len(odd)
    for path in ("/feed", "/tag/birds/feed"):
        for kind, document in _feed_documents(client, path):
            if kind == "atom":
                (entry,) = document.findall(f"{A}entry")
                title, author = entry.find(f"{A}title").text, entry.find(f"{A}author/{A}name").text
                tags = sorted(c.get("term") for c in entry.findall(f"{A}category"))
            elif kind == "rss":
                (entry,) = document.findall("item")
                title, author = entry.find("title").text, entry.find("author").text
                tags = sorted(c.text for c in entry.findall("category"))
            else:
                (entry,) = document["items"]
                title, author = entry["title"], entry["authors"][0]["name"]
                tags = sorted(entry["tags"])
            assert title == f"a{replaced}b", kind
            assert f"n{replaced}" in author, kind
            assert tags == ["birds", f"t{replaced}"], kind
    # Any address that carries such a character is refused before it reaches a feed.
    assert client.get(f"/u/n{quote(odd, safe='')}/feed.atom").status_code == 400


# --- sitemap and robots.txt -------------------------------------------------------------------


def _xml(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.data)


def _locs(root: ET.Element, element: str) -> dict[str, str | None]:
    return {
        e.find(f"{SM}loc").text: getattr(e.find(f"{SM}lastmod"), "text", None)
        for e in root.findall(f"{SM}{element}")
    }


def test_the_sitemap_index_points_at_post_and_page_sitemaps(client, blog):
    root = _xml(client, "/sitemap.xml")
    assert root.tag == f"{SM}sitemapindex"
    assert list(_locs(root, "sitemap")) == [
        "http://localhost/sitemap/posts-0.xml",
        "http://localhost/sitemap/pages.xml",
    ]


def test_post_sitemaps_list_published_posts_with_lastmod(app, client, auth, blog):
    auth.login("alice", PW)
    form = {"title": "First sparrow", "body": "Edited", "tags": "birds", "version": "1"}
    client.post(f"/{blog['first']}/update", data=form)
    auth.logout()
    root = _xml(client, "/sitemap/posts-0.xml")
    assert root.tag == f"{SM}urlset"
    urls = _locs(root, "url")
    assert list(urls) == [
        f"http://localhost/{blog['first']}/first-sparrow",
        f"http://localhost/{blog['bob']}/bob-s-post",
        f"http://localhost/{blog['second']}/robins-wrens",
    ]
    edited = stored(app, blog["first"])["updated"]
    assert urls[f"http://localhost/{blog['first']}/first-sparrow"] == edited.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    published = stored(app, blog["bob"])["published_at"]
    assert urls[f"http://localhost/{blog['bob']}/bob-s-post"] == published.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_posts_are_split_into_sitemap_chunks_by_id(app, client, blog):
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.insert(post).values(
                id=10_001,
                author_id=1,
                title="Far away",
                body="b",
                published_at=datetime(2021, 1, 1),
            )
        )
    index = _locs(_xml(client, "/sitemap.xml"), "sitemap")
    assert list(index) == [
        "http://localhost/sitemap/posts-0.xml",
        "http://localhost/sitemap/posts-1.xml",
        "http://localhost/sitemap/pages.xml",
    ]
    assert list(_locs(_xml(client, "/sitemap/posts-1.xml"), "url")) == [
        "http://localhost/10001/far-away"
    ]
    assert "far-away" not in client.get("/sitemap/posts-0.xml").get_data(as_text=True)
    assert _locs(_xml(client, "/sitemap/posts-7.xml"), "url") == {}
    assert client.get("/sitemap/posts-100001.xml").status_code == 404
    assert client.get("/sitemap/posts-x.xml").status_code == 404


def test_the_pages_sitemap_lists_the_front_page_tags_and_authors(app, client, blog, make_user):
    make_user("silent", PW)  # no posts: no page worth listing
    urls = _locs(_xml(client, "/sitemap/pages.xml"), "url")
    assert list(urls) == [
        "http://localhost/",
        "http://localhost/tag/birds",
        "http://localhost/tag/gardens",
        "http://localhost/u/alice",
        "http://localhost/u/bob",
    ]
    newest_alice = stored(app, blog["second"])["published_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert urls["http://localhost/u/alice"] == newest_alice
    assert urls["http://localhost/tag/gardens"] == newest_alice


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "Disallow: /auth/" in lines and "Disallow: /me/" in lines


def test_text_that_is_not_utf8_reads_as_replacement_characters(app, client, blog, db_kind):
    """SQLite stores what plain SQL gives it: char(55296) is a lone surrogate, and a blob
    cast to text any bytes. PostgreSQL refuses both."""
    odd = "char(55296) || CAST(x'ff' AS TEXT)" if db_kind == "sqlite" else "chr(55296)"
    statement = sa.text(f"UPDATE post SET title = 'a' || {odd} || 'b' WHERE id = 1")  # noqa: S608
    if db_kind != "sqlite":
        with pytest.raises(sa.exc.DBAPIError), app.app_context(), transaction() as conn:
            conn.execute(statement)
        return
    with app.app_context(), transaction() as conn:
        conn.execute(statement)
        conn.execute(sa.text("UPDATE \"user\" SET username = 'n' || char(57343) WHERE id = 2"))
    for kind, document in _feed_documents(client, "/feed"):
        if kind == "json":
            titles = [item["title"] for item in document["items"]]
        elif kind == "atom":
            titles = [e.find(f"{A}title").text for e in document.findall(f"{A}entry")]
        else:
            titles = [i.find("title").text for i in document.findall("item")]
        assert "a\ufffd\ufffd\ufffd\ufffdb" in titles, kind
    for path in ("/", f"/{blog['first']}/", "/search?q=sparrow"):
        assert client.get(path, follow_redirects=True).status_code == 200, path
    assert "a\ufffd\ufffd\ufffd\ufffdb" in client.get("/").get_data(as_text=True)


# --- entries kept as written ------------------------------------------------------------


def _entry(**changes):
    from flaskr.feeds.formats import Entry

    fields = {
        "id": "tag:example.org,2026:1",
        "url": "http://example.org/1/one",
        "title": "One",
        "author": "ann",
        "published": datetime(2026, 1, 2, 3, 4, 5),
        "updated": datetime(2026, 1, 2, 3, 4, 5),
        "content_html": "<p>first words</p>",
        "summary": "first words",
        "tags": ["cats"],
    }
    fields.update(changes)
    return Entry(**fields)


CHANGES = {
    "id": "tag:example.org,2026:2",
    "url": "http://example.org/1/changed",
    "title": "Changed",
    "author": "bea",
    "published": datetime(2025, 5, 6, 7, 8, 9),
    "updated": datetime(2027, 5, 6, 7, 8, 9),
    "content_html": "<p>changed words</p>",
    "summary": "changed summary",
    "tags": ["dogs"],
}


@pytest.mark.parametrize("kind", ["atom", "rss"])
@pytest.mark.parametrize("field", sorted(CHANGES))
def test_a_kept_entry_is_never_written_for_a_changed_post(kind, field):
    from flaskr.feeds import formats

    write = {"atom": formats._atom_entry, "rss": formats._rss_item}[kind]
    feed = formats.Feed(
        "Blog", "", "http://example.org/", "http://example.org/f", datetime(2026, 1, 1)
    )
    first = formats.WRITERS[kind](feed, [_entry()]).decode()
    assert write(_entry()) in first
    changed_entry = _entry(**{field: CHANGES[field]})
    changed = formats.WRITERS[kind](feed, [changed_entry]).decode()
    assert write(changed_entry) in changed
    if write(changed_entry) != write(_entry()):
        assert write(_entry()) not in changed


#: Each field of a feed changed: what a document's head is written from.
FEED_CHANGES = {
    "title": "Other blog",
    "description": "Other words",
    "home_url": "http://example.org/other/",
    "feed_url": "http://example.org/other/f",
    "updated": datetime(2026, 1, 1, 0, 0, 1),
    "language": "de",
}


@pytest.mark.parametrize("kind", ["atom", "rss"])
@pytest.mark.parametrize("field", sorted(FEED_CHANGES))
def test_a_kept_document_head_is_never_written_for_another_feed(monkeypatch, kind, field):
    from flaskr.feeds import formats

    elements = {"atom": formats._atom_head, "rss": formats._rss_head}[kind]

    def head(feed):
        return "".join([formats._XML_DECLARATION, *elements(feed)])

    feed = formats.Feed(
        "Blog", "", "http://example.org/", "http://example.org/f", datetime(2026, 1, 1)
    )
    written = []
    monkeypatch.setattr(formats, f"_{kind}_head", lambda f: written.append(f) or elements(f))
    first = formats.WRITERS[kind](feed, [_entry()]).decode()
    assert first.startswith(head(feed)) and len(written) == 1
    assert formats.WRITERS[kind](feed, [_entry()]).decode() == first
    assert len(written) == 1  # kept: not written again
    changed_feed = dataclasses.replace(feed, **{field: FEED_CHANGES[field]})
    assert head(changed_feed) != head(feed)
    changed = formats.WRITERS[kind](changed_feed, [_entry()]).decode()
    assert changed.startswith(head(changed_feed)) and len(written) == 2


def test_an_entry_carries_each_writer_s_text_and_is_never_given_another_s(monkeypatch):
    from flaskr.feeds import formats

    feed = formats.Feed(
        "Blog", "", "http://example.org/", "http://example.org/f", datetime(2026, 1, 1)
    )
    entry = _entry()  # one object, as the feeds keep it, written by each writer in turn
    atom = formats.atom(feed, [entry]).decode()
    rss = formats.rss(feed, [entry]).decode()
    assert formats._atom_entry(_entry()) in atom and formats._rss_item(_entry()) in rss
    assert entry.written == {
        formats._atom_entry: formats._atom_entry(_entry()),
        formats._rss_item: formats._rss_item(_entry()),
    }
    # Written again, the text the entry carries is given, for its own writer only.
    monkeypatch.setattr(formats, "_WRITTEN", Fragments(0))  # nothing kept by value
    entry.written[formats._atom_entry] = "<entry>as carried</entry>"
    assert "<entry>as carried</entry>" in formats.atom(feed, [entry]).decode()
    assert "as carried" not in formats.rss(feed, [entry]).decode()
    assert entry == _entry()  # the text it carries is no part of what it is


# --- entries kept as built --------------------------------------------------------------


def _row(**changes):
    """A feed's row as list_reader_posts reads it (its HTML current)."""
    row = {
        "id": 7,
        "created": datetime(2026, 1, 2, 3, 4, 5),
        "title": "One",
        "slug": None,
        "username": "ann",
        "published_at": datetime(2026, 1, 3, 3, 4, 5),
        "updated": None,
        "summary": "first words",
        "tag_names": "cats",
        "language": "en",  # the site's: not said, until the site speaks another
        "cover": None,
        "body_html": '<p><img src="/media/a.webp" alt="a" width="4" height="3"> first words</p>',
        "render_version": markup.RENDER_VERSION,
    }
    row.update(changes)
    return row


ROW_CHANGES = {
    "id": 8,
    "created": datetime(2025, 1, 2, 3, 4, 5),
    "title": "Changed",
    "slug": "own-address",
    "username": "bea",
    "published_at": datetime(2025, 5, 6, 7, 8, 9),
    "updated": datetime(2027, 5, 6, 7, 8, 9),
    "summary": "changed summary",
    "tag_names": "dogs\x1fowls",
    "language": "de",
    "cover": "![a cover](https://example.org/cover.png)",
    "body_html": '<p><img src="/media/b.webp" alt="b" width="4" height="3"> other words</p>',
}
#: What the site around a post may change: its address, where it is served, the settings.
SITE_CHANGES = {
    "host": {"base_url": "http://other.example"},
    "scheme": {"base_url": "https://localhost"},
    "script root": {"base_url": "http://localhost/blog/"},
    "full content": {"full": False},
    "site language": {"language": "de"},
}


def _entries_for(app, rows, base_url="http://localhost", full=True, language="en"):
    """The entries _entries gives, and the ones built afresh, for rows on this site."""
    from flaskr.feeds import views

    app.config["LANGUAGE"] = language
    with app.test_request_context("/feed.atom", base_url=base_url):
        site, authority = views._site_address()
        given = views._entries(rows, full, site, authority)
        posts = blog_services.with_html(rows)
        built = [views._entry(post, site, authority, full, language) for post in posts]
    return given, built


@pytest.mark.parametrize("field", sorted(ROW_CHANGES))
def test_a_kept_feed_entry_is_never_given_for_a_changed_post(app, field):
    [first], [built_first] = _entries_for(app, [_row()])
    assert first == built_first
    [again], _ = _entries_for(app, [_row()])
    assert again is first  # kept, not built again
    [changed], [built] = _entries_for(app, [_row(**{field: ROW_CHANGES[field]})])
    assert built != built_first  # the change shows in the entry
    assert changed == built


def test_a_feed_entry_is_never_kept_for_a_row_whose_html_is_not_current(app):
    """A row whose stored HTML is missing or from an older renderer is rendered from its
    Markdown, which the row's other values do not show: two such rows alike in all
    else must never share an entry."""
    stale = {"body_html": None, "summary": None}
    old_renderer = {"render_version": markup.RENDER_VERSION - 1}
    for field_values in (stale, old_renderer):
        # With the Markdown read along, as the post's own page reads it: nothing
        # asks the database for it (post 7 exists nowhere), and writing the new
        # HTML back changes no row.
        [first], _ = _entries_for(app, [_row(**field_values, body="first text")])
        [second], [built] = _entries_for(app, [_row(**field_values, body="other text")])
        assert "first text" in first.content_html
        assert second == built and "other text" in second.content_html
    kept = app.extensions["flaskr.feeds.entries"]
    assert not kept.entries  # nothing kept under such a row


def test_kept_feed_entries_are_looked_up_by_the_rows_as_read(app, monkeypatch):
    """Entries kept come back without with_html() copying their rows; only the posts
    not kept go through it."""
    rows = [_row(id=number, title=f"Post {number}") for number in (1, 2, 3)]
    first, _ = _entries_for(app, rows[:2])
    seen = []
    real = blog_services.with_html
    monkeypatch.setattr(blog_services, "with_html", lambda posts: seen.append(posts) or real(posts))
    again, built = _entries_for(app, rows)
    assert again[:2] == first and again[0] is first[0] and again[1] is first[1]
    assert again[2] == built[2]
    assert seen[0] == [rows[2]]  # the one post not kept


@pytest.mark.parametrize("change", sorted(SITE_CHANGES))
def test_a_kept_feed_entry_is_never_given_for_another_site_address_or_setting(app, change):
    [first], [built_first] = _entries_for(app, [_row()])
    [changed], [built] = _entries_for(app, [_row()], **SITE_CHANGES[change])
    assert built != built_first
    assert changed == built
