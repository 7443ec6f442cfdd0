"""Feeds (Atom, RSS, JSON Feed) for the site, tags and authors; sitemaps and robots.txt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from flaskr import markup
from flaskr.blog.tables import post
from flaskr.db import connection, transaction

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
        query = sa.select(post.c.published_at, post.c.updated, post.c.body_html).where(
            post.c.id == post_id
        )
        return dict(connection().execute(query).mappings().one())


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
    assert self_link.get("href") == f"http://localhost{path}"
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
        assert item.find("guid").text == item.find("link").text
    return channel


def json_feed(client, path: str) -> dict:
    """Fetch and parse a JSON Feed, checking its required members."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/feed+json"
    document = json.loads(response.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"]
    assert document["feed_url"] == f"http://localhost{path}"
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
    assert newest.find(f"{A}id").text == url
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
    assert newest["id"] == newest["url"] == f"http://localhost/{blog['second']}/robins-wrens"
    assert newest["content_html"] == stored(app, blog["second"])["body_html"]
    assert newest["authors"] == [{"name": "alice"}]
    assert newest["tags"] == ["birds", "gardens"]
    published = stored(app, blog["second"])["published_at"]
    assert abs(iso(newest["date_published"]) - published) < timedelta(seconds=1)


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


def test_feeds_answer_conditional_requests(client, blog):
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


def test_the_etag_differs_between_formats_and_settings(make_app, blog):
    client = make_app().test_client()
    etags = {client.get(f"/feed.{kind}").headers["ETag"] for kind in KINDS}
    summary_client = make_app(FEED_FULL_CONTENT=False).test_client()
    etags.add(summary_client.get("/feed.atom").headers["ETag"])
    assert len(etags) == 4


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
