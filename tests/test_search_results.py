"""Search results kept rendered: never shown once anything in them changed."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from flaskr.db import transaction
from flaskr.fragments import Fragments
from flaskr.search import results
from flaskr.search.snippets import highlighter


@pytest.fixture
def app(make_app):
    # No page cache: what a searcher sees comes from the kept results alone.
    return make_app(PAGE_CACHE_SECONDS=0)


def _kept(app) -> Fragments:
    return app.extensions["flaskr.search.results"]


def _row(**changes):
    row = {
        "id": 7,
        "title": "Cafe notes",
        "slug": None,
        "language": "en",
        "published_at": datetime(2026, 1, 3, 3, 4, 5),
        "username": "ann",
        "body": "Some words before the café, then more words after it.",
    }
    row.update(changes)
    return row


#: A new value for each value of the row that a result is made from.
ROW_CHANGES = {
    "id": 8,
    "title": "Other cafe notes",
    "slug": "own-address",
    "language": "de",
    "published_at": datetime(2025, 5, 6, 7, 8, 9),
    "username": "bea",
    "body": "Other words, and a cafe among them.",
}
#: What the search and the page around a result may change.
PAGE_CHANGES = {
    # The same stems, marked differently: only Porter's index folds "café" to "cafe".
    "stemming": {"algorithm": "english"},
    "words": {"query": "words"},
    "script root": {"base_url": "http://localhost/blog/"},
    "language": {"language": "de"},
    "time zone": {"timezone": "America/Los_Angeles"},  # 2026-01-02 there
}


def _results(
    app,
    rows,
    *,
    query="cafe",
    algorithm="porter",
    base_url="http://localhost",
    language="en",
    timezone="UTC",
):
    """The results post_results gives (kept where it can), and the same made afresh."""
    app.config["TIMEZONE"] = timezone
    words = highlighter(query, algorithm)
    with app.test_request_context(
        "/search", base_url=base_url, headers={"Accept-Language": language}
    ):
        given = results.post_results(rows, words)
        kept = _kept(app)
        app.extensions["flaskr.search.results"] = Fragments(0)  # keeps nothing: renders
        try:
            made = results.post_results(rows, words)
        finally:
            app.extensions["flaskr.search.results"] = kept
    return given, made


def test_a_kept_result_is_given_again_not_rendered(app, monkeypatch):
    first, made = _results(app, [_row()])
    assert first == made
    assert "<mark>Cafe</mark> notes" in first and "the <mark>café</mark>, then" in first
    with app.app_context():
        module = app.jinja_env.get_template(results.TEMPLATE).module
    rendered = []
    monkeypatch.setattr(module, "result", lambda post: rendered.append(post) or "")
    _results(app, [_row()])
    assert len(rendered) == 1  # only the result made afresh
    assert len(_kept(app).entries) == 1


@pytest.mark.parametrize("field", sorted(ROW_CHANGES))
def test_a_kept_result_is_never_given_for_a_changed_post(app, field):
    _, made_first = _results(app, [_row()])
    changed, made = _results(app, [_row(**{field: ROW_CHANGES[field]})])
    assert made != made_first  # the change shows in the result
    assert changed == made


@pytest.mark.parametrize("change", sorted(PAGE_CHANGES))
def test_a_kept_result_is_never_given_for_other_words_or_another_page(app, change):
    _, made_first = _results(app, [_row()])
    changed, made = _results(app, [_row()], **PAGE_CHANGES[change])
    assert made != made_first
    assert changed == made


def test_a_kept_result_counts_its_html_and_the_text_in_its_key(app):
    row = _row()
    given, _ = _results(app, [row])
    ((html, size),) = _kept(app).entries.values()
    assert html == given and size == len(html) + len(row["body"])


def test_results_are_in_the_order_found_each_once(app):
    rows = [_row(id=9, title="Cafe nine"), _row(id=3, title="Cafe three")]
    _results(app, rows[1:])  # one of them kept already
    given, made = _results(app, rows)
    assert given == made
    assert given.index("Cafe nine") < given.index("Cafe three")
    assert given.count('<article class="search-result">') == 2


def test_a_search_shows_a_change_made_by_plain_sql_at_once(client, app, make_user, make_post):
    make_post(make_user("ann"), title="Kept title", body="kept words about gardens")
    page = client.get("/search?q=gardens").get_data(as_text=True)
    assert "Kept title" in page and "about <mark>gardens</mark>" in page
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE post SET title = 'Other title'"))
        conn.execute(sa.text("UPDATE \"user\" SET username = 'bea'"))
    page = client.get("/search?q=gardens").get_data(as_text=True)
    assert "Other title" in page and "by bea on" in page
    assert "Kept title" not in page and "by ann" not in page
