"""Posts as lists show them, kept rendered: never shown once anything in them changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr.blog import articles
from flaskr.db import transaction
from flaskr.fragments import Fragments


@pytest.fixture
def app(make_app):
    # No page cache: what a reader sees comes from the kept articles alone.
    return make_app(PAGE_CACHE_SECONDS=0)


@pytest.fixture
def post(make_user, make_post):
    author = make_user("ann")
    return make_post(author, title="Kept title", body="kept words", tags="kepttag")


def _sql(app, statement: str) -> None:
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text(statement))


def _kept(app) -> Fragments:
    return app.extensions["flaskr.articles"]


@pytest.mark.parametrize(
    ("statement", "before", "after"),
    [
        ("UPDATE post SET title = 'Other title'", "Kept title", "Other title"),
        ("UPDATE post SET body_html = '<p>other words</p>'", "kept words", "other words"),
        ("UPDATE \"user\" SET username = 'bea'", "by ann", "by bea"),
        ("UPDATE tag SET name = 'othertag'", "/tag/kepttag", "/tag/othertag"),
        ("UPDATE post SET published_at = '2020-02-03 04:05:06'", "", "on 2020-02-03"),
    ],
    ids=["title", "body", "author", "tag", "published"],
)
def test_a_list_shows_a_change_made_by_plain_sql_at_once(
    client, app, post, statement, before, after
):
    first = client.get("/").get_data(as_text=True)
    assert before in first and after not in first
    assert len(_kept(app).entries) == 1
    _sql(app, statement)
    changed = client.get("/").get_data(as_text=True)
    assert after in changed
    if before:
        assert before not in changed


def test_a_posts_page_shows_a_new_update_time(client, app, post):
    assert ", updated 2021-03-04" not in client.get("/1/kept-title").get_data(as_text=True)
    _sql(app, "UPDATE post SET updated = '2021-03-04 05:06:07'")
    assert ", updated 2021-03-04" in client.get("/1/kept-title").get_data(as_text=True)


def test_a_post_on_its_page_and_in_a_list_are_kept_apart(client, app, post):
    page = client.get("/1/kept-title").get_data(as_text=True)
    listed = client.get("/").get_data(as_text=True)
    assert "More from ann" in page and "More from ann" not in listed


def test_the_edit_link_is_never_shown_to_another_reader(client, auth, make_user, make_post):
    make_user("test", "test")
    make_post(1, title="Mine")
    auth.login()
    assert "/1/update" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "/1/update" not in client.get("/").get_data(as_text=True)
    auth.login()
    assert "/1/update" in client.get("/").get_data(as_text=True)


def test_links_follow_the_script_root(client, post):
    assert 'href="/1/kept-title"' in client.get("/").get_data(as_text=True)
    under = client.get("/", base_url="http://localhost/blog").get_data(as_text=True)
    assert 'href="/blog/1/kept-title"' in under and 'href="/blog/tag/kepttag"' in under


def test_a_kept_article_is_not_rendered_again(client, app, post, monkeypatch):
    client.get("/")
    with app.app_context():
        module = app.jinja_env.get_template(articles.TEMPLATE).module
    rendered: list[int] = []
    original = module.article

    def counting(post, full=False):
        rendered.append(post["id"])
        return original(post, full)

    monkeypatch.setattr(module, "article", counting)
    for path in ("/", "/tag/kepttag", "/u/ann"):
        assert "kept words" in client.get(path).get_data(as_text=True)
    assert rendered == []


def test_a_very_long_post_is_rendered_each_time_never_kept(client, app, post, monkeypatch):
    with app.app_context(), transaction() as conn:
        length = len(conn.execute(sa.text("SELECT body_html FROM post")).scalar_one())
    monkeypatch.setattr(articles, "MAX_BODY", length - 1)
    assert "kept words" in client.get("/").get_data(as_text=True)
    assert not _kept(app).entries
    monkeypatch.setattr(articles, "MAX_BODY", length)
    client.get("/")
    assert len(_kept(app).entries) == 1


def test_two_posts_alike_in_all_they_show_keep_their_own_addresses(client, app, post):
    _sql(app, "UPDATE post SET published_at = '2020-02-03 04:05:06'")
    _sql(
        app,
        "INSERT INTO post (author_id, title, body, body_html, render_version, status, published_at)"
        " SELECT author_id, title, body, body_html, render_version, status, published_at FROM post",
    )
    _sql(app, "INSERT INTO post_tag (post_id, tag_id) SELECT 2, tag_id FROM post_tag")
    listed = client.get("/").get_data(as_text=True)
    assert 'href="/1/kept-title"' in listed and 'href="/2/kept-title"' in listed


def test_lists_share_one_kept_copy_whatever_the_update_time(client, app, post):
    """Lists do not show when a post was updated: a new update time renders nothing anew."""
    client.get("/")
    before = dict(_kept(app).entries)
    _sql(app, "UPDATE post SET updated = '2021-03-04 05:06:07'")
    client.get("/")
    assert dict(_kept(app).entries) == before


def test_a_kept_article_counts_its_html_and_the_body_in_its_key(client, app, post):
    client.get("/")
    with app.app_context(), transaction() as conn:
        body = conn.execute(sa.text("SELECT body_html FROM post")).scalar_one()
    ((html, size),) = _kept(app).entries.values()
    assert size == len(html) + len(body) and _kept(app).size == size


@pytest.mark.parametrize("path", ["/", "/tag/shared", "/u/ann", "/archive/{year}/{month}/"])
def test_every_list_puts_one_rule_between_articles_and_none_after(
    client, make_user, make_post, path
):
    from flaskr.db import utcnow

    author = make_user("ann")
    for n in range(3):
        make_post(author, title=f"Listed {n}", body=f"words {n}", tags="shared")
    now = utcnow()
    page = client.get(path.format(year=now.year, month=now.month)).get_data(as_text=True)
    main = page[page.index("<main") : page.index("</main>")]
    assert main.count("<article") == 3
    assert main.count("<hr>") == 2
    assert main.rindex("<hr>") < main.rindex("<article")


def test_articles_are_joined_with_a_rule_and_text_that_is_not_markup_is_escaped():
    from markupsafe import Markup

    kept = [Markup("<article>one</article>"), Markup("<article>two</article>")]
    assert articles.joined(kept) == "<article>one</article>\n<hr>\n<article>two</article>"
    assert type(articles.joined(kept)) is Markup
    # Were a piece ever plain text (not the macro's markup), it is written as text.
    mixed = articles.joined([kept[0], "<script>x</script>"])
    assert "<script>" not in mixed
    assert mixed.endswith("&lt;script&gt;x&lt;/script&gt;")
    assert articles.joined([]) == ""
