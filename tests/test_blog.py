"""Post pages: canonical slug URLs, the detail page and its meta tags, and queries per page."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from flaskr.blog.slugs import SLUG_MAX, slugify
from flaskr.blog.tables import post
from flaskr.db import connection, transaction

PW = "a long enough pw"


class _Head(HTMLParser):
    """The <meta>, <link> and <a rel> tags of a page, by name/property/rel."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (key := found.get("property") or found.get("name")):
            self.meta.setdefault(key, []).append(found.get("content") or "")
        elif tag in ("link", "a") and found.get("rel"):
            self.links.setdefault(found["rel"], []).append(found.get("href") or "")


def head(page: str) -> _Head:
    """Parse a page's meta and link tags."""
    parser = _Head()
    parser.feed(page)
    return parser


def flashed(client) -> list[str]:
    """The messages waiting in the client's session."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def set_times(app, **times: datetime) -> None:
    """Set published_at of posts by id (p1=..., p2=...) with plain SQL."""
    with app.app_context(), transaction() as conn:
        for key, value in times.items():
            conn.execute(
                sa.update(post).where(post.c.id == int(key[1:])).values(published_at=value)
            )


# --- slugs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  Spaces   and---dashes  ", "spaces-and-dashes"),
        ("Ünïcödé Çafé Straße", "unicode-cafe-straße"),
        ("Crème brûlée: 2 ways", "creme-brulee-2-ways"),
        ("ＡＢＣ Ⅻ ①", "abc-xii-1"),
        ("日本語のタイトル", "日本語のタイトル"),
        ("Καλημέρα κόσμε", "καλημέρα-κόσμε"),
        ("Привет, мир!", "привет-мир"),
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),  # combining vowel signs are kept
        ("한국어 제목", "한국어-제목"),
        ("مرحبا بالعالم", "مرحبا-بالعالم"),
        ("🙂🙂", "post"),
        ("snake_case", "snake-case"),
        ("!!!", "post"),
        ("C++ & C#", "c-c"),
        ("x" * 100, "x" * SLUG_MAX),
        ("word " * 30, ("word-" * 16)[:SLUG_MAX].rstrip("-")),
    ],
)
def test_slugs_are_lowercase_words_in_the_titles_script(title, slug):
    assert slugify(title) == slug
    assert len(slugify(title)) <= SLUG_MAX


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


def test_creating_a_post_goes_to_its_canonical_page(app, client, alice):
    response = client.post("/create", data={"title": "My First Post!", "body": "Hi"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/1/my-first-post"
    assert flashed(client) == ["Published."]
    assert client.get("/1/my-first-post").status_code == 200


@pytest.mark.parametrize(
    "path", ["/1/", "/1/wrong", "/1/My-First-Post", "/1/my-first-post-", "/1/%C3%BC"]
)
def test_other_addresses_of_a_post_redirect_permanently(client, make_user, make_post, path):
    make_post(make_user(), title="My First Post")
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == "/1/my-first-post"


@pytest.mark.parametrize(
    ("title", "path"),
    [
        ("日本語", "/1/%E6%97%A5%E6%9C%AC%E8%AA%9E"),
        ("Привет", "/1/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82"),
        (
            "Καλημέρα κόσμε",  # Greek, lower-cased with its accents kept
            "/1/%CE%BA%CE%B1%CE%BB%CE%B7%CE%BC%CE%AD%CF%81%CE%B1-%CE%BA%CF%8C%CF%83%CE%BC%CE%B5",
        ),
    ],
)
def test_a_title_in_another_script_gives_a_readable_address(
    client, make_user, make_post, title, path
):
    make_post(make_user(), title=title)
    assert client.get("/1/").headers["Location"] == path
    # The address such titles had before (all of them at /<id>/post) leads there too.
    old = client.get("/1/post")
    assert old.status_code == 301 and old.headers["Location"] == path
    response = client.get(path)
    assert response.status_code == 200
    assert f"<title>{title} - Flaskr</title>" in response.get_data(as_text=True)
    assert f'href="{path}"' in client.get("/").get_data(as_text=True)


def test_a_retitled_post_moves_and_its_old_address_redirects(client, alice, make_post):
    make_post(alice, title="Old name")
    form = {"title": "New name", "body": "b", "version": "1"}
    response = client.post("/1/update", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/1/new-name"
    old = client.get("/1/old-name")
    assert old.status_code == 301 and old.headers["Location"] == "/1/new-name"


def test_update_and_delete_keep_the_tutorials_addresses(app, client, alice, make_post):
    make_post(alice, title="Some title")
    assert client.get("/1/update").status_code == 200
    assert client.post("/1/delete").status_code == 302
    assert flashed(client) == [
        "The post was moved to the trash. You can restore it there for 30 days."
    ]
    with app.app_context():
        assert connection().execute(sa.select(sa.func.count()).select_from(post)).scalar() == 0
    assert client.get("/1/some-title").status_code == 404


def test_deleting_asks_first_on_a_page_that_changes_nothing(app, client, alice, make_post):
    make_post(alice, title="Some title")
    page = client.get("/1/update").get_data(as_text=True)
    assert '<a class="danger" href="/1/delete">' in page
    asking = client.get("/1/delete")
    assert asking.status_code == 200
    text = asking.get_data(as_text=True)
    assert '<h1>Delete "Some title"?</h1>' in text and "waits in <a" in text
    assert '<form method="post" action="/1/delete"' in text
    assert client.head("/1/delete").status_code == 200
    assert client.get("/1/some-title").status_code == 200  # still there, after GET and HEAD


def test_only_the_author_is_asked_whether_to_delete(client, auth, make_user, make_post):
    make_post(make_user("bob", PW), title="Bob's")
    assert client.get("/1/delete").headers["Location"].startswith("/auth/login")
    make_user("alice", PW)
    auth.login("alice", PW)
    assert client.get("/1/delete").status_code == 403
    assert client.get("/2/delete").status_code == 404


@pytest.mark.parametrize(
    "path", ["/99/", "/99/anything", "/0/", "/-1/", "/2147483648/", "/99999999999999999999/"]
)
def test_missing_posts_are_404(client, make_user, make_post, path):
    make_post(make_user())
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/2147483648/update"),
        ("post", "/2147483648/update"),
        ("post", "/99999999999999999999/delete"),
        ("get", "/2147483648/revisions"),
        ("get", "/1/revisions/2147483648"),
        ("post", "/1/revisions/99999999999999999999/restore"),
    ],
)
def test_ids_beyond_the_database_integer_range_are_404(client, alice, make_post, method, path):
    make_post(alice)
    assert getattr(client, method)(path, data={"title": "t", "body": "b"}).status_code == 404


# --- the detail page ------------------------------------------------------------------------


def test_the_detail_page_shows_the_post_and_its_facts(app, client, make_user, make_post):
    alice = make_user("alice", PW)
    make_post(alice, title="Facts", body="The **body**.", tags="zeta, alpha")
    set_times(app, p1=datetime(2024, 3, 5, 12, 0))
    response = client.get("/1/facts")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<title>Facts - Flaskr</title>" in page
    assert '<h1><a href="/1/facts">Facts</a></h1>' in page
    assert "by alice on 2024-03-05" in page
    assert "updated" not in page.split('<div class="about">')[1].split("</div>")[0]
    assert '<a rel="author" href="/u/alice">' in page
    assert '<a href="/tag/alpha">alpha</a>' in page and '<a href="/tag/zeta">zeta</a>' in page
    assert "The <strong>body</strong>." in page


def test_the_detail_page_shows_when_the_post_was_updated(app, client, alice, make_post):
    make_post(alice, title="Facts")
    set_times(app, p1=datetime(2024, 3, 5, 12, 0))
    client.post("/1/update", data={"title": "Facts", "body": "new", "version": "1"})
    with app.app_context():
        updated = connection().execute(sa.select(post.c.updated)).scalar_one()
    page = client.get("/1/facts").get_data(as_text=True)
    assert f"by alice on 2024-03-05, updated {updated:%Y-%m-%d}" in page
    meta = head(page).meta
    assert meta["article:modified_time"] == [updated.isoformat() + "Z"]


def test_the_detail_page_has_meta_canonical_open_graph_and_twitter_tags(
    app, client, make_user, make_post
):
    make_post(
        make_user("alice", PW),
        title='Quotes "and" <tags> & more',
        body="First *words* of the post.\n\nSecond paragraph.",
        tags="birds, trees",
    )
    set_times(app, p1=datetime(2024, 3, 5, 12, 30, 15))
    page = client.get("/1/quotes-and-tags-more").get_data(as_text=True)
    parsed = head(page)
    url = "http://localhost/1/quotes-and-tags-more"
    title = 'Quotes "and" <tags> & more'
    summary = "First words of the post. Second paragraph."
    assert parsed.links["canonical"] == [url]
    assert parsed.meta["description"] == [summary]
    assert parsed.meta["og:type"] == ["article"]
    assert parsed.meta["og:title"] == [title]
    assert parsed.meta["og:description"] == [summary]
    assert parsed.meta["og:url"] == [url]
    assert parsed.meta["og:site_name"] == ["Flaskr"]
    assert parsed.meta["article:published_time"] == ["2024-03-05T12:30:15Z"]
    assert parsed.meta["article:tag"] == ["birds", "trees"]
    assert parsed.meta["twitter:card"] == ["summary"]
    assert parsed.meta["twitter:title"] == [title]
    assert parsed.meta["twitter:description"] == [summary]
    assert "robots" not in parsed.meta  # a published post may be indexed
    assert "<title>Quotes &#34;and&#34; &lt;tags&gt; &amp; more - Flaskr</title>" in page


def test_a_post_without_text_describes_itself_by_its_title(client, make_user, make_post):
    make_post(make_user(), title="Only a title", body="")
    meta = head(client.get("/1/only-a-title").get_data(as_text=True)).meta
    assert meta["description"] == meta["og:description"] == ["Only a title"]


def _neighbours(client, post_id: int, slug: str) -> dict[str, list[str]]:
    links = head(client.get(f"/{post_id}/{slug}").get_data(as_text=True)).links
    return {"prev": links.get("prev", []), "next": links.get("next", [])}


def test_previous_and_next_links_skip_hidden_posts(app, client, make_user, make_post):
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    make_post(alice, title="Oldest")  # 1
    make_post(bob, title="Draft between", status="draft")  # 2
    make_post(bob, title="Middle")  # 3
    make_post(alice, title="Scheduled", publish_at=datetime(2999, 1, 1))  # 4
    make_post(alice, title="Newest")  # 5
    set_times(
        app,
        p1=datetime(2024, 1, 1),
        p2=datetime(2024, 1, 2),
        p3=datetime(2024, 1, 3),
        p5=datetime(2024, 1, 5),
    )
    # "prev" is the older post, "next" the newer one, across authors.
    assert _neighbours(client, 1, "oldest") == {"prev": [], "next": ["/3/middle"]}
    assert _neighbours(client, 3, "middle") == {"prev": ["/1/oldest"], "next": ["/5/newest"]}
    assert _neighbours(client, 5, "newest") == {"prev": ["/3/middle"], "next": []}
    page = client.get("/3/middle").get_data(as_text=True)
    assert "&larr; Oldest" in page and "Newest &rarr;" in page


def test_posts_published_at_the_same_moment_are_ordered_by_id(app, client, make_user, make_post):
    alice = make_user()
    for title in ("One", "Two", "Three"):
        make_post(alice, title=title)
    moment = datetime(2024, 6, 1, 8, 0)
    set_times(app, p1=moment, p2=moment, p3=moment)
    assert _neighbours(client, 2, "two") == {"prev": ["/1/one"], "next": ["/3/three"]}
    index = client.get("/").get_data(as_text=True)
    assert index.index("Three") < index.index("Two") < index.index("One")


def test_a_lone_post_has_no_neighbours(client, make_user, make_post):
    make_post(make_user(), title="Alone")
    assert _neighbours(client, 1, "alone") == {"prev": [], "next": []}


def test_a_drafts_page_shows_its_author_no_neighbours(app, client, alice, make_post):
    for title in ("Before", "Draft", "After"):
        make_post(alice, title=title, status="draft" if title == "Draft" else "published")
    set_times(app, p1=datetime(2024, 1, 1), p2=datetime(2024, 1, 2), p3=datetime(2024, 1, 3))
    assert _neighbours(client, 2, "draft") == {"prev": [], "next": []}
    # Its place in time is known (the middle post's neighbours skip it).
    assert _neighbours(client, 3, "after") == {"prev": ["/1/before"], "next": []}


def test_a_post_page_reads_the_post_and_its_neighbours_in_one_statement(
    make_app, make_user, make_post
):
    """On PostgreSQL each statement is a round trip, which costs more than the lookups:
    the post with its neighbours (and whether it has comments) is one; its comments,
    when it has any, the other."""
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    alice = make_user("alice", PW)
    for title in ("One", "Two", "Three"):
        make_post(alice, title=title)
    client.get("/hello")  # the first request checks migrations; not a page cost
    assert _neighbours(client, 2, "two") == {"prev": ["/1/one"], "next": ["/3/three"]}
    assert _count_queries(app, client, "/2/two") == 1
    with app.app_context(), transaction() as conn:
        # A comment nobody but moderators sees still makes the thread worth reading.
        conn.execute(
            sa.text(
                "INSERT INTO comment (post_id, author_id, body, body_html, status, created_at)"
                " VALUES (2, :alice, 'Held', '<p>Held</p>', 'held', :now)"
            ),
            {"alice": alice, "now": datetime(2024, 1, 1)},
        )
    assert _count_queries(app, client, "/2/two") == 2


def test_the_post_page_statement_finds_the_neighbours_from_the_posts_own_row(
    make_app, make_user, make_post, db_kind
):
    """PostgreSQL's generic plan of the statement with the post looked up again for each
    neighbour bound ran it four more times and hashed every user for the author's name
    (0.107 ms against 0.076): there the neighbours join the post's row (LATERAL) and the
    name is looked up by id. SQLite has no LATERAL and looks the post up by its id."""
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    alice = make_user("alice", PW)
    for title in ("One", "Two", "Three"):
        make_post(alice, title=title)
    client.get("/hello")
    assert _neighbours(client, 2, "two") == {"prev": ["/1/one"], "next": ["/3/three"]}
    (page,) = [s for s in _statements(app, client, "/2/two") if "newer_post" in s]
    if db_kind == "postgresql":
        assert page.count("LATERAL") == 2
        assert "AS here" not in page and 'JOIN "user"' not in page
    else:
        assert "LATERAL" not in page
        assert page.count("AS here") == 4


def _neighbour_ids(app, post_id: int) -> dict[str, int | None]:
    """What the query itself answers for a post: the ids of its newer and older neighbours."""
    from flaskr.blog import queries

    with app.app_context():
        found = queries.find_post_page(post_id)[1]
    return {side: row["id"] if row else None for side, row in found.items()}


def test_previous_and_next_follow_publish_times_not_ids(app, client, make_user, make_post):
    """Backdated and scheduled posts: ids and publish times disagree."""
    alice = make_user()
    for number in range(1, 6):
        make_post(alice, title=f"Post {number}")
    make_post(alice, title="Scheduled", publish_at=datetime(2999, 1, 1))  # 6
    make_post(alice, title="Backdated draft", status="draft")  # 7
    # In time: 4, 2, 1, (draft 7), 5, 3, (scheduled 6).
    set_times(
        app,
        p1=datetime(2024, 1, 3),
        p2=datetime(2024, 1, 2),
        p3=datetime(2024, 1, 5),
        p4=datetime(2024, 1, 1),
        p5=datetime(2024, 1, 4),
        p7=datetime(2024, 1, 3, 12),
    )
    expected = {4: (None, 2), 2: (4, 1), 1: (2, 5), 5: (1, 3), 3: (5, None)}
    for post_id, (older, newer) in expected.items():
        assert _neighbour_ids(app, post_id) == {"newer": newer, "older": older}, post_id
        links = _neighbours(client, post_id, f"post-{post_id}")
        assert links == {
            "prev": [f"/{older}/post-{older}"] if older else [],
            "next": [f"/{newer}/post-{newer}"] if newer else [],
        }, post_id


def without_index_scans(database_url: str | None) -> str | None:
    """The PostgreSQL URL with index scans off: rows then come in storage order, not id order.

    (SQLite keeps posts in id order, the rowid, whatever its plan.)
    """
    if database_url is None:
        return None
    url = sa.make_url(database_url)
    options = url.query.get("options", "")
    off = " ".join(f"-c{name}=off" for name in ("enable_indexscan", "enable_indexonlyscan"))
    return url.update_query_dict({"options": f"{options} {off}".strip()}).render_as_string(
        hide_password=False
    )


def test_posts_published_at_one_moment_neighbour_in_id_order_whatever_the_storage_order(
    app, make_app, app_config, make_user, make_post
):
    """Rewritten out of id order (PostgreSQL then stores the new rows in that order, and
    reads them so without an index), four posts of one moment still follow each other by id."""
    alice = make_user()
    for number in range(1, 5):
        make_post(alice, title=f"Post {number}")
    moment = datetime(2024, 6, 1, 8, 0)
    for post_id in (4, 1, 2, 3):
        set_times(app, **{f"p{post_id}": moment})
    expected = {1: (None, 2), 2: (1, 3), 3: (2, 4), 4: (3, None)}
    for reader in (app, make_app(DATABASE_URL=without_index_scans(app_config["DATABASE_URL"]))):
        for post_id, (older, newer) in expected.items():
            assert _neighbour_ids(reader, post_id) == {"newer": newer, "older": older}, post_id
        client = reader.test_client()
        assert _neighbours(client, 1, "post-1") == {"prev": [], "next": ["/2/post-2"]}
        assert _neighbours(client, 4, "post-4") == {"prev": ["/3/post-3"], "next": []}


# --- reader lists: publish time order, pages, visibility, authors and tags -----------------

#: (author, tags, publish time or "draft"/"scheduled") of posts 1-9, made in id order.
LIST_POSTS = [
    ("alice", "shared", datetime(2024, 1, 3)),  # 1
    ("bob", "shared", datetime(2024, 1, 5)),  # 2
    ("alice", "shared, other", datetime(2024, 1, 1)),  # 3
    ("alice", "other", datetime(2024, 1, 4)),  # 4
    ("alice", "shared", "draft"),  # 5: backdated into the lists' range
    ("alice", "shared", "scheduled"),  # 6
    ("bob", "shared", datetime(2024, 1, 2)),  # 7
    ("alice", "shared", datetime(2024, 1, 3)),  # 8: the same moment as 1
    ("bob", "other", "draft"),  # 9
]
#: Each reader list, newest first (by publish time, then the higher id first).
READER_LISTS = {
    "/": [2, 4, 8, 1, 7, 3],
    "/u/alice": [4, 8, 1, 3],
    "/u/bob": [2, 7],
    "/tag/shared": [2, 8, 1, 7, 3],
    "/tag/other": [4, 3],
}


@pytest.fixture
def listed_posts(app, make_user, make_post) -> dict[str, int]:
    """The posts of LIST_POSTS; returns the authors' ids."""
    authors = {"alice": make_user("alice", PW), "bob": make_user("bob", PW)}
    times = {}
    for number, (author, tags, when) in enumerate(LIST_POSTS, start=1):
        extra: dict = {"status": "draft"} if when == "draft" else {}
        if when == "scheduled":
            extra["publish_at"] = datetime(2999, 1, 1)
        make_post(authors[author], title=f"Post {number}", tags=tags, **extra)
        times[f"p{number}"] = datetime(2024, 1, 6) if when == "draft" else when
    set_times(app, **{key: when for key, when in times.items() if isinstance(when, datetime)})
    return authors


def _listed(client, path: str) -> tuple[list[int], list[str]]:
    """The ids of the posts a list page shows, in order, and its pager's links (rel, href)."""
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    ids = [int(found) for found in re.findall(r'<h2><a href="/(\d+)/[^"]*">', page)]
    pager = re.findall(r'<a rel="(prev|next)" href="([^"]*)">', page)
    return ids, [f"{rel} {href}" for rel, href in pager]


@pytest.mark.parametrize("path", list(READER_LISTS))
def test_reader_lists_are_newest_first_by_publish_time_a_page_at_a_time(
    make_app, listed_posts, path
):
    """Two a page: pages follow on without a gap or a repeat, drafts and scheduled posts
    never show, and each list keeps to its author or tag."""
    client = make_app(POSTS_PER_PAGE=2).test_client()
    expected = READER_LISTS[path]
    pages = [expected[start : start + 2] for start in range(0, len(expected), 2)]
    for number, ids in enumerate(pages, start=1):
        shown, pager = _listed(client, f"{path}?page={number}" if number > 1 else path)
        assert shown == ids, (path, number)
        older = [f"next {path}?page={number + 1}"] if number < len(pages) else []
        newer = [f"prev {path}?page={number - 1}" if number > 2 else f"prev {path}"]
        assert pager == (newer if number > 1 else []) + older, (path, number)
    assert client.get(f"{path}?page={len(pages) + 1}").status_code == 404


def test_the_reader_list_query_gives_a_page_and_one_more_row(app, listed_posts):
    """The query on its own: per_page rows of the page, plus the first of the next if any."""
    from flaskr.blog import queries

    with app.app_context():

        def ids(page: int, per_page: int, **only) -> list[int]:
            rows = queries.list_reader_posts(
                limit=per_page + 1, offset=(page - 1) * per_page, feed=True, **only
            )
            return [row["id"] for row in rows]

        assert ids(1, 2) == [2, 4, 8]
        assert ids(2, 2) == [8, 1, 7]
        assert ids(3, 2) == [7, 3]
        assert ids(4, 2) == []
        assert ids(1, 6) == [2, 4, 8, 1, 7, 3]
        assert ids(2, 3, author="alice") == [3]
        assert ids(1, 3, author="alice") == [4, 8, 1, 3]
        assert ids(1, 1, tag="shared") == [2, 8]
        assert ids(2, 2, tag="shared") == [1, 7, 3]
        row = queries.list_reader_posts(limit=1, author="bob", feed=True)[0]
    assert (row["id"], row["username"], row["title"]) == (2, "bob", "Post 2")


def test_reader_lists_keep_id_order_within_a_moment_whatever_the_plan(
    app, make_app, app_config, make_user, make_post
):
    """Six posts of one moment, rewritten out of id order: every page, on every plan
    (see without_index_scans), shows them by id, highest first, without gap or repeat."""
    alice = make_user("alice", PW)
    for number in range(1, 7):
        make_post(alice, title=f"Post {number}", tags="same")
    moment = datetime(2024, 6, 1, 8, 0)
    for post_id in (3, 6, 1, 4, 2, 5):
        set_times(app, **{f"p{post_id}": moment})
    url = without_index_scans(app_config["DATABASE_URL"])
    for reader in (make_app(POSTS_PER_PAGE=2), make_app(POSTS_PER_PAGE=2, DATABASE_URL=url)):
        client = reader.test_client()
        for path in ("/", "/u/alice", "/tag/same"):
            pages = [_listed(client, f"{path}?page={n}")[0] for n in (1, 2, 3)]
            assert pages == [[6, 5], [4, 3], [2, 1]], (reader.config["DATABASE_URL"], path)


# --- queries per page ---------------------------------------------------------------------------


def _statements(app, client, path: str) -> list[str]:
    """The SQL a GET of path ran (it must answer 200)."""
    engine = app.extensions["flaskr.engine"]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, path
    return statements


def _count_queries(app, client, path: str) -> int:
    statements = _statements(app, client, path)
    # The freshness check is one small query, or none on PostgreSQL while its
    # listener vouches for the version (flaskr.db.notified), and the site settings
    # are read again once per process after a write: neither is a cost of the data.
    overhead = ("FROM content_version", "FROM site_setting")
    return len([s for s in statements if not any(part in s for part in overhead)])


PAGES = [
    "/",
    "/2/post-2",
    "/tag/common",
    "/tags",
    "/search?q=common",
    "/search?q=",
    "/feed.atom",
    "/feed.json",
    "/tag/common/feed.rss",
    "/u/alice",
    "/u/alice/feed.atom",
    "/sitemap.xml",
    "/sitemap/posts-0.xml",
    "/sitemap/pages.xml",
]


def test_a_page_costs_the_same_queries_whatever_the_blog_size(make_app, make_user, make_post):
    """Measured with the page cache off: what each view really runs."""
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    alice, bob = make_user("alice", PW), make_user("bob", PW)

    def add_posts(upto: int) -> None:
        while (count := _posts(app)) < upto:
            author = alice if count % 3 else bob
            make_post(
                author, title=f"Post {count + 1}", body="common text", tags=f"common, t{count % 7}"
            )

    client.get("/hello")  # the first request checks migrations; not a page cost
    add_posts(3)
    small = {path: _count_queries(app, client, path) for path in PAGES}
    add_posts(12)
    paged = {path: _count_queries(app, client, path) for path in ("/?page=2", "/tag/common?page=2")}
    add_posts(45)
    large = {path: _count_queries(app, client, path) for path in PAGES}
    assert large == small
    assert {path: _count_queries(app, client, path) for path in paged} == paged
    # And the counts are small: no page runs a query per post.
    assert max(large.values()) <= 8, large


def _posts(app) -> int:
    with app.app_context():
        return connection().execute(sa.select(sa.func.count()).select_from(post)).scalar_one()


# --- the editor's buttons ---------------------------------------------------------------


def _state_of(app, post_id: int = 1) -> str:
    from flaskr.blog import queries
    from flaskr.policy import post_state

    with app.app_context():
        return post_state(queries.find_post(post_id))


def _buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="action" value="(\w+)"[^>]*>([^<]+)<', page)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"action": "draft"}, "draft"),
        ({"action": "publish"}, "published"),
        ({"action": "publish", "publish_at": "2999-01-01T10:00"}, "scheduled"),
        ({"action": "draft", "status": "published"}, "draft"),  # the button decides
        ({"action": "publish", "status": "draft"}, "published"),
        ({"status": "draft"}, "draft"),  # a form without the buttons (a script's)
        ({}, "published"),  # the tutorial's form
        ({"action": "save"}, "published"),
    ],
)
def test_the_button_pressed_decides_draft_or_publish(app, client, alice, fields, state):
    response = client.post("/create", data={"title": "T", "body": "b", **fields})
    assert response.status_code == 302
    assert _state_of(app) == state


def test_a_new_posts_buttons_say_save_draft_and_publish_never_save(client, alice):
    page = client.get("/create").get_data(as_text=True)
    assert _buttons(page) == [
        ("preview", "Preview"),
        ("draft", "Save draft"),
        ("publish", "Publish"),
    ]


@pytest.mark.parametrize(
    ("fields", "said", "buttons"),
    [
        ({"action": "draft"}, "Draft: only you can see it", ["Save draft", "Publish"]),
        ({"action": "publish"}, "Published &middot;", ["Update", "Unpublish to draft"]),
        (
            {"action": "publish", "publish_at": "2999-01-01T10:00"},
            "Scheduled for 2999-01-01 10:00 (UTC)",
            ["Schedule", "Unpublish to draft"],
        ),
    ],
)
def test_the_editor_shows_the_posts_state_and_fitting_buttons(client, alice, fields, said, buttons):
    client.post("/create", data={"title": "T", "body": "b", **fields})
    page = client.get("/1/update").get_data(as_text=True)
    assert said in page
    assert [label for _, label in _buttons(page)] == ["Preview", *buttons]


@pytest.mark.parametrize(
    ("saved", "when", "buttons"),
    [
        (None, "2999-01-01T10:00", ["Save draft", "Schedule"]),
        (None, "2000-01-01T10:00", ["Save draft", "Publish"]),
        (None, "", ["Save draft", "Publish"]),
        ("publish", "2999-01-01T10:00", ["Schedule", "Unpublish to draft"]),
        ("publish", "", ["Update", "Unpublish to draft"]),
        ("draft", "2999-01-01T10:00", ["Save draft", "Schedule"]),
        ("schedule", "", ["Schedule", "Unpublish to draft"]),  # emptied: its time stays
        ("schedule", "2000-01-01T10:00", ["Publish", "Unpublish to draft"]),
    ],
)
def test_after_a_preview_the_publish_button_names_what_it_will_do(
    client, alice, saved, when, buttons
):
    # Without JavaScript nothing relabels the button as the time is typed: the
    # preview's page says "Schedule" for a time still to come.
    form = {"title": "T", "body": "b", "publish_at": when, "action": "preview"}
    if saved == "schedule":
        first = {"action": "publish", "publish_at": "2999-01-01T10:00"}
        client.post("/create", data={"title": "T", "body": "b", **first})
        page = client.post("/1/update", data={**form, "version": "1"}).get_data(as_text=True)
    elif saved:
        client.post("/create", data={"title": "T", "body": "b", "action": saved})
        page = client.post("/1/update", data={**form, "version": "1"}).get_data(as_text=True)
    else:
        page = client.post("/create", data=form).get_data(as_text=True)
    assert [label for _, label in _buttons(page)] == ["Preview", *buttons]
    # With the script, a time typed in the past says the label for "now", an emptied
    # field what a save without a time does (a scheduled post keeps its time).
    now_label = "Update" if saved == "publish" else "Publish"
    empty_label = "Schedule" if saved == "schedule" else now_label
    labels = f'data-now-label="{now_label}" data-empty-label="{empty_label}"'
    assert f'data-schedule-label="Schedule" {labels}' in page


def test_saving_a_scheduled_post_with_the_time_emptied_keeps_it_scheduled_and_says_so(
    app, client, alice
):
    first = {"title": "T", "body": "b", "action": "publish", "publish_at": "2999-01-01T10:00"}
    client.post("/create", data=first)
    form = {"title": "T2", "body": "b", "version": "1", "action": "publish", "publish_at": ""}
    client.post("/1/update", data=form)
    assert _state_of(app) == "scheduled"
    assert "Scheduled." in client.get("/1/t2").get_data(as_text=True)


def test_unpublishing_makes_a_published_post_a_draft(app, client, alice):
    client.post("/create", data={"title": "T", "body": "b", "action": "publish"})
    client.post("/1/update", data={"title": "T", "body": "b", "version": "1", "action": "draft"})
    assert _state_of(app) == "draft"
    assert client.get("/1/t").status_code == 200  # the author still sees it
