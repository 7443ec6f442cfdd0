"""The pager every list shows: its links, its words in the reader's language, its escaping."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from flaskr.paging import Page, pager

pytestmark = pytest.mark.db_independent


def _page(number: int, has_next: bool, pages: int | None = None) -> Page:
    return Page(items=[], number=number, has_next=has_next, pages=pages)


def _links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a rel="(prev|next)" href="([^"]*)">', html)


def test_a_list_of_one_page_has_no_pager(app):
    with app.test_request_context("/"):
        assert pager(_page(1, has_next=False), "blog.index") == ""


def test_the_first_page_links_only_to_older_posts(app):
    with app.test_request_context("/"):
        html = pager(_page(1, has_next=True), "blog.index")
    assert isinstance(html, Markup)
    assert _links(html) == [("next", "/?page=2")]
    assert '<nav class="pager" aria-label="Pages">' in html
    assert '<span class="pager-current">Page 1</span>' in html
    assert "Older &rarr;</a>" in html


def test_page_two_links_back_to_the_list_itself_not_to_page_one(app):
    with app.test_request_context("/"):
        html = pager(_page(2, has_next=True), "tags.tag", name="python")
    assert _links(html) == [("prev", "/tag/python"), ("next", "/tag/python?page=3")]
    assert "&larr; Newer</a>" in html


def test_the_last_page_links_only_to_newer_posts_and_says_how_many_when_known(app):
    with app.test_request_context("/"):
        html = pager(_page(10, has_next=False, pages=10), "blog.index")
    assert _links(html) == [("prev", "/?page=9")]
    assert '<span class="pager-current">Page 10 of 10</span>' in html


def test_values_in_the_links_are_escaped(app):
    with app.test_request_context("/"):
        html = pager(_page(2, has_next=True), "search.search", q="a", tag="x&y")
    # The & between the query's values is written &amp; in the attribute.
    assert _links(html) == [
        ("prev", "/search?q=a&amp;tag=x%26y"),
        ("next", "/search?page=3&amp;q=a&amp;tag=x%26y"),
    ]
    assert "&y" not in html.replace("&amp;", "")


def test_markup_in_a_link_is_escaped_not_written(app, monkeypatch):
    # No route builds a link with a quote or a tag in it; were one to, it stays text.
    import flaskr.paging

    monkeypatch.setattr(flaskr.paging, "link", lambda *_a, **_k: '/x?q="><script>')
    with app.test_request_context("/"):
        html = pager(_page(2, has_next=True), "blog.index")
    assert "<script>" not in html
    assert html.count('href="/x?q=&#34;&gt;&lt;script&gt;"') == 2


def test_the_pager_is_written_in_the_readers_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        html = pager(_page(2, has_next=True, pages=5), "blog.index")
    assert 'aria-label="Seiten"' in html
    assert '<span class="pager-current">Seite 2 von 5</span>' in html
    assert "&larr; Neuere</a>" in html
    assert "Ältere &rarr;</a>" in html


def test_templates_call_this_pager(app):
    # The template global is this function, not a macro left behind.
    assert app.jinja_env.globals["pager"] is pager
