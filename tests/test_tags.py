"""Tags: the editor's field and its rules, a page per tag, the list with counts."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from flaskr.blog.tables import post
from flaskr.db import connection, transaction
from flaskr.tags.queries import split_names
from flaskr.tags.services import parse_tags
from flaskr.tags.tables import post_tag, tag
from flaskr.validation import ValidationError

PW = "a long enough pw"


def stored_tags(app) -> dict[int, list[str]]:
    """Every post's tag names as stored, by post id."""
    with app.app_context():
        query = (
            sa.select(post_tag.c.post_id, tag.c.name)
            .join(tag, tag.c.id == post_tag.c.tag_id)
            .order_by(post_tag.c.post_id, tag.c.name)
        )
        result: dict[int, list[str]] = {}
        for post_id, name in connection().execute(query):
            result.setdefault(post_id, []).append(name)
        return result


def count(app, table) -> int:
    """How many rows a table has."""
    with app.app_context():
        return connection().execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


# --- the rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("", []),
        (None, []),
        (" , ,", []),
        ("python", ["python"]),
        ("  Python ,python, PYTHON  ", ["python"]),
        ("Machine   Learning", ["machine-learning"]),
        ("b, a, b, c", ["b", "a", "c"]),
        ("c++, c#, node.js, snake_case", ["c++", "c#", "node.js", "snake_case"]),
        ("Café, STRASSE, Ωmega", ["café", "strasse", "ωmega"]),
        # The same word typed decomposed (macOS), full-width or with a ligature.
        ("cafe\u0301, caf\u00e9, CAFÉ", ["caf\u00e9"]),
        ("\uff26\uff55\uff4c\uff4c, full", ["full"]),
        ("\ufb01sh", ["fish"]),
        ("İstanbul", ["i\u0307stanbul"]),  # lower() leaves a combining dot
        ("x" * 40, ["x" * 40]),
        (",".join(f"t{n}" for n in range(10)), [f"t{n}" for n in range(10)]),
        # Duplicates do not count towards the limit.
        (",".join(["same"] * 30), ["same"]),
    ],
)
def test_tags_are_trimmed_lowercased_deduplicated_and_dashed(field, expected):
    assert parse_tags(field) == expected


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("x" * 41, "Tags are at most 40 characters long."),
        (",".join(f"t{n}" for n in range(11)), "A post can have at most 10 tags."),
        ("good, <script>", "Tag '<script>' may only hold letters, digits and - _ . + #."),
        ("a/b", "Tag 'a/b' may only hold letters, digits and - _ . + #."),
        ("what?", "Tag 'what?' may only hold letters, digits and - _ . + #."),
        (".hidden", "Tag '.hidden' may only hold letters, digits and - _ . + #."),
        ("-dash", "Tag '-dash' may only hold letters, digits and - _ . + #."),
        ('"quoted"', "Tag '\"quoted\"' may only hold letters, digits and - _ . + #."),
        ("100%", "Tag '100%' may only hold letters, digits and - _ . + #."),
        ("\u202eevil", "may only hold letters, digits and - _ . + #."),
        ("emoji🙂", "may only hold letters, digits and - _ . + #."),
    ],
)
def test_bad_tags_are_refused_with_a_clear_message(field, message):
    with pytest.raises(ValidationError) as error:
        parse_tags(field)
    assert message in str(error.value)


def test_a_bad_tag_in_the_editor_saves_nothing(app, client, alice):
    form = {"title": "T", "body": "b", "tags": "fine, a/b"}
    response = client.post("/create", data=form)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Tag 'a/b' may only hold letters, digits and - _ . + #." in page
    assert 'value="fine, a/b"' in page  # what was typed stays in the field
    assert count(app, post) == 0
    assert count(app, tag) == 0


def test_a_bad_tag_while_editing_changes_nothing(app, client, alice, make_post):
    post_id = make_post(alice, title="Kept", tags="old")
    form = {
        "title": "New",
        "body": "b",
        "tags": ",".join(f"t{n}" for n in range(11)),
        "version": "1",
    }
    response = client.post(f"/{post_id}/update", data=form)
    assert response.status_code == 200
    assert "A post can have at most 10 tags." in response.get_data(as_text=True)
    assert stored_tags(app) == {post_id: ["old"]}
    with app.app_context():
        assert connection().execute(sa.select(post.c.title)).scalar_one() == "Kept"


def test_tags_typed_in_the_editor_are_stored_normalized(app, client, alice):
    form = {"title": "T", "body": "b", "tags": " Flask, web  dev,flask "}
    assert client.post("/create", data=form).status_code == 302
    assert stored_tags(app) == {1: ["flask", "web-dev"]}
    editor = client.get("/1/update").get_data(as_text=True)
    assert 'value="flask, web-dev"' in editor


def test_editing_tags_moves_the_post_between_tag_pages(app, client, alice, make_post):
    post_id = make_post(alice, title="Mover", tags="before, stays")
    form = {"title": "Mover", "body": "b", "tags": "stays, after", "version": "1"}
    assert client.post(f"/{post_id}/update", data=form).status_code == 302
    assert stored_tags(app) == {post_id: ["after", "stays"]}
    assert "Mover" in client.get("/tag/after").get_data(as_text=True)
    assert "Mover" in client.get("/tag/stays").get_data(as_text=True)
    assert client.get("/tag/before").status_code == 404  # no visible post carries it now


def test_tags_are_shared_between_posts(app, make_user, make_post):
    alice = make_user("alice", PW)
    make_post(alice, title="One", tags="common, one")
    make_post(alice, title="Two", tags="Common, two")
    assert count(app, tag) == 3
    assert stored_tags(app) == {1: ["common", "one"], 2: ["common", "two"]}


def test_deleting_a_post_removes_its_tags_from_the_lists(app, client, alice, make_post):
    make_post(alice, title="Stays", tags="kept")
    post_id = make_post(alice, title="Goes", tags="kept, gone")
    assert client.post(f"/{post_id}/delete").status_code == 302
    assert stored_tags(app) == {1: ["kept"]}
    page = client.get("/tags").get_data(as_text=True)
    assert '<a href="/tag/kept">kept</a> <span class="meta">(1)</span>' in page
    assert "/tag/gone" not in page


def listed_tags(app, post_id: int) -> list[str]:
    """A post's tags as reader lists and its page read them (its tag_names column)."""
    from flaskr.blog import queries

    with app.app_context():
        found = queries.find_post(post_id)
        assert found is not None
        return split_names(found["tag_names"])


def test_a_posts_listed_tags_follow_every_change_made_in_plain_sql(app, make_user, make_post):
    # The names on the post row are written by triggers (migration 0028): a tag
    # added, moved, renamed or deleted by hand shows at once, as the editor's do.
    author = make_user("alice", PW)
    first = make_post(author, title="First", tags="alpha, beta")
    second = make_post(author, title="Second", tags="beta")
    assert listed_tags(app, first) == ["alpha", "beta"]
    with app.app_context(), transaction() as conn:
        conn.execute(sa.insert(tag).values(name="gamma"))
        gamma = conn.execute(sa.select(tag.c.id).where(tag.c.name == "gamma")).scalar_one()
        conn.execute(sa.insert(post_tag).values(post_id=first, tag_id=gamma))
    assert listed_tags(app, first) == ["alpha", "beta", "gamma"]
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(tag).where(tag.c.name == "beta").values(name="bravo"))
    assert listed_tags(app, first) == ["alpha", "bravo", "gamma"]
    assert listed_tags(app, second) == ["bravo"]
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.update(post_tag)
            .where(post_tag.c.post_id == first, post_tag.c.tag_id == gamma)
            .values(post_id=second)
        )
    assert listed_tags(app, first) == ["alpha", "bravo"]
    assert listed_tags(app, second) == ["bravo", "gamma"]
    with app.app_context(), transaction() as conn:
        conn.execute(sa.delete(tag).where(tag.c.name == "bravo"))  # cascades to post_tag
        conn.execute(sa.delete(post_tag).where(post_tag.c.post_id == second))
    assert listed_tags(app, first) == ["alpha"]
    assert listed_tags(app, second) == []


def test_a_tag_renamed_in_plain_sql_is_renamed_on_the_list_pages(app, client, make_user, make_post):
    make_post(make_user("alice", PW), title="Tagged", tags="before")
    assert '<a href="/tag/before">before</a>' in client.get("/").get_data(as_text=True)
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(tag).where(tag.c.name == "before").values(name="after"))
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/tag/after">after</a>' in page
    assert "/tag/before" not in page


# --- pages -----------------------------------------------------------------------


def test_a_post_shows_its_tags_as_links(client, make_user, make_post):
    make_post(make_user(), title="Tagged", tags="zeta, alpha")
    for path in ("/", "/1/tagged"):
        page = client.get(path).get_data(as_text=True)
        assert (
            '<li><a href="/tag/alpha">alpha</a></li><li><a href="/tag/zeta">zeta</a></li>' in page
        )


def test_a_tag_page_lists_its_posts_newest_first(client, make_user, make_post):
    alice = make_user()
    make_post(alice, title="Old one", tags="birds")
    make_post(alice, title="Untagged")
    make_post(alice, title="New one", tags="birds, fish")
    response = client.get("/tag/birds")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<title>Posts tagged birds - Flaskr</title>" in page
    assert page.index("New one") < page.index("Old one")
    assert "Untagged" not in page


def test_a_tag_page_is_paged(client, make_user, make_post):
    alice = make_user()
    for number in range(11):
        make_post(alice, title=f"Post {number:02}", tags="many")
    first = client.get("/tag/many").get_data(as_text=True)
    assert first.count('<article class="post">') == 10
    assert "Post 10" in first and "Post 00" not in first
    assert 'href="/tag/many?page=2"' in first
    second = client.get("/tag/many?page=2")
    assert second.status_code == 200
    page = second.get_data(as_text=True)
    assert page.count('<article class="post">') == 1 and "Post 00" in page
    assert 'href="/tag/many"' in page  # back to page 1
    assert client.get("/tag/many?page=3").status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99999999", "", "%F0%9F%99%82"])
def test_a_bad_page_number_is_404(client, make_user, make_post, page):
    make_post(make_user(), tags="many")
    assert client.get(f"/tag/many?page={page}").status_code == 404


def test_a_tag_only_hidden_posts_carry_does_not_exist_for_readers(app, make_user, make_post):
    author = make_user()
    make_post(author, title="Draft", tags="secret", status="draft")
    make_post(author, title="Scheduled", tags="secret", publish_at=datetime(2999, 1, 1))
    visitor = app.test_client()
    for path in ("/tag/secret", "/tag/secret/feed.atom", "/tag/secret/feed.json"):
        assert visitor.get(path).status_code == 404, path
    make_post(author, title="Public", tags="secret")
    page = visitor.get("/tag/secret").get_data(as_text=True)
    assert "Public" in page and "Draft" not in page and "Scheduled" not in page
    assert visitor.get("/tag/secret/feed.atom").status_code == 200


def test_a_tag_page_is_one_statement(make_app, make_user, make_post):
    """The tag is looked up inside the list's statement: on PostgreSQL, one round trip."""
    statements: list[str] = []
    app = make_app(PAGE_CACHE_SECONDS=0)
    make_post(make_user(), title="Tagged", tags="one")
    client = app.test_client()
    client.get("/hello")  # the first request checks migrations; not a page cost
    with app.app_context():
        engine = connection().engine

    def record(_conn, _cursor, statement, *_args):
        if "content_version" not in statement and "site_setting" not in statement:
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/tag/one").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements


@pytest.mark.parametrize("name", ["nosuchtag", "Many", "%3Cscript%3E", "a" * 300, "%F0%9F%99%82"])
def test_an_unknown_tag_is_404(client, make_user, make_post, name):
    make_post(make_user(), tags="many")
    assert client.get(f"/tag/{name}").status_code == 404


def test_a_unicode_tag_has_a_page(client, make_user, make_post):
    make_post(make_user(), title="Coffee", tags="café")
    page = client.get("/1/coffee").get_data(as_text=True)
    assert 'href="/tag/caf%C3%A9"' in page
    assert "Coffee" in client.get("/tag/caf%C3%A9").get_data(as_text=True)


def test_the_tag_list_shows_counts_alphabetically(client, make_user, make_post):
    alice = make_user()
    make_post(alice, tags="python, web")
    make_post(alice, tags="python")
    make_post(alice, tags="art")
    response = client.get("/tags")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    entries = [
        '<a href="/tag/art">art</a> <span class="meta">(1)</span>',
        '<a href="/tag/python">python</a> <span class="meta">(2)</span>',
        '<a href="/tag/web">web</a> <span class="meta">(1)</span>',
    ]
    positions = [page.index(entry) for entry in entries]
    assert positions == sorted(positions)


def test_the_tag_list_when_there_are_no_tags(client):
    response = client.get("/tags")
    assert response.status_code == 200
    assert "No tags yet." in response.get_data(as_text=True)
    assert client.get("/tags?page=2").status_code == 404


def test_tags_with_punctuation_have_reachable_pages_and_feeds(client, make_user, make_post):
    make_post(make_user(), title="Languages", tags="c#, c++, node.js, snake_case")
    page = client.get("/1/languages").get_data(as_text=True)
    links = dict(re.findall(r'<li><a href="(/tag/[^"]+)">([^<]+)</a></li>', page))
    assert sorted(links.values()) == ["c#", "c++", "node.js", "snake_case"]
    for href, name in links.items():
        response = client.get(href)
        assert response.status_code == 200, href
        assert f"Posts tagged “{name}”" in response.get_data(as_text=True)
        assert client.get(f"{href}/feed.atom").status_code == 200, href


def test_the_tag_list_is_paged_past_two_hundred_tags(client, make_user, make_post):
    alice = make_user()
    for number in range(21):
        make_post(alice, tags=",".join(f"t{number * 10 + n:03}" for n in range(10)))
    first = client.get("/tags").get_data(as_text=True)
    assert first.count('<a href="/tag/t') == 200
    assert "/tag/t199" in first and "/tag/t200" not in first
    assert 'href="/tags?page=2"' in first
    second = client.get("/tags?page=2").get_data(as_text=True)
    assert second.count('<a href="/tag/t') == 10 and "/tag/t209" in second
    assert client.get("/tags?page=3").status_code == 404


def test_a_tag_page_links_its_feeds_in_its_head_and_its_text(client, make_user, make_post):
    make_post(make_user(), title="Languages", tags="c#")
    page = client.get("/tag/c%23").get_data(as_text=True)
    for kind, mimetype, title in (
        ("atom", "application/atom+xml", "Tag c# (Atom)"),
        ("rss", "application/rss+xml", "Tag c# (RSS)"),
        ("json", "application/feed+json", "Tag c# (JSON Feed)"),
    ):
        href = f"/tag/c%23/feed.{kind}"
        assert f'<link rel="alternate" type="{mimetype}" title="{title}" href="{href}">' in page
        assert f'<a href="{href}">' in page  # and visible links, without JavaScript
        assert client.get(href).status_code == 200
