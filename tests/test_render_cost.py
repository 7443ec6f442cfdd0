"""Markdown that would cost seconds to render is bounded, and writing is rate limited per user."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr import markup
from flaskr.db import connection, transaction

PW = "a long enough pw"
#: Inputs of 100,000 characters (the body limit) in every costly shape we know.
PATHOLOGICAL = {
    "image openers": "![" * 50_000,
    "link openers": "[" * 100_000,
    "link labels": "[a](" * 25_000,
    "links in links": "[[" * 25_000 + "a" + "](b)]" * 10_000,
    "footnote refs": "[^" * 50_000,
    "footnote definitions": "".join(f"[^{i}]: x\n" for i in range(12_000)),
    "emphasis runs": "*a" * 50_000,
    "mixed emphasis": "*_" * 50_000,
    "nested emphasis": "*a **b " * 14_000,
    "strikethrough": "~~a" * 33_000,
    "backticks": "`a" * 50_000,
    "backtick runs": "".join("`" * n + "a" for n in range(1, 440)),
    "autolink openers": "<" * 100_000,
    "entities": "&#" * 50_000,
    "link reference definitions": "".join(f"[r{i}]: /u{i}\n" for i in range(8_000)),
    "reference uses": "".join(f"[r{i}]: /u{i}\n" for i in range(2_000)) + "[r1] " * 16_000,
    "nested lists": "".join("  " * n + "* a\n" for n in range(300)),
    "stair lists": "".join(" " * n + "- a\n" for n in range(2_000)),
    "list items": "- a\n" * 25_000,
    "nested blockquotes": ">" * 100_000,
    "blockquote lines": "".join(">" * n + " a\n" for n in range(440)),
    "setext headings": "a\n=\n" * 25_000,
    "short lines": "a\n" * 50_000,
    "wide table": "|a" * 200 + "\n" + "|-" * 200 + "\n" + ("|a" * 200 + "\n") * 100,
    "code to highlight": "```python\n" + "def f(x):\n    return x * 2  # c\n" * 3_000 + "```",
}


#: The shapes that cost seconds before the parser-step budget (bench/render_cost.py
#: measures what each costs now; timing belongs there, not in a test).
COSTLY_BEFORE = ("image openers", "link openers", "footnote refs", "list items", "wide table")
_PARAGRAPH = (
    "A [link](https://example.org/page) in a *sentence*, with `code`, **bold** "
    "words and a footnote.[^1] Then more plain words to make a paragraph of prose.\n\n"
)
#: A long post a person could write: it must never be refused.
ORDINARY_POST = ("# Title\n\n" + _PARAGRAPH * 600 + "[^1]: The note.\n")[:100_000]


@pytest.mark.db_independent
@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL)
def test_pathological_markdown_renders_or_is_refused_never_an_error(source):
    try:
        html = markup.render(source[:100_000])
    except markup.TooComplexError:
        return
    assert isinstance(html, str)


@pytest.mark.db_independent
@pytest.mark.parametrize("name", COSTLY_BEFORE)
def test_shapes_that_cost_seconds_are_refused_by_the_step_budget(name):
    with pytest.raises(markup.TooComplexError):
        markup.render(PATHOLOGICAL[name][:100_000])


def test_a_long_ordinary_post_is_not_refused():
    assert len(ORDINARY_POST) > 90_000
    html = markup.render(ORDINARY_POST)
    assert html.count("<a href=") >= 600


def test_too_much_formatting_is_refused_with_a_message():
    with pytest.raises(markup.TooComplexError, match="too much formatting"):
        markup.render("![" * 50_000)


def test_code_past_the_highlight_budget_is_shown_plain():
    block = "```python\n" + "x = 1\n" * (markup.HIGHLIGHT_BUDGET // 6 - 10) + "```\n\n"
    html = markup.render(block + block)
    first, second = html.split("</pre>")[:2]
    assert 'class="hl-' in first
    assert 'class="hl-' not in second and "x = 1" in second


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


def test_saving_too_much_formatting_is_refused_and_nothing_is_stored(app, client, alice):
    response = client.post("/create", data={"title": "Brackets", "body": "![" * 50_000})
    assert response.status_code == 200
    assert "too much formatting" in response.get_data(as_text=True)
    with app.app_context():
        assert connection().execute(sa.text("SELECT count(*) FROM post")).scalar() == 0


def test_preview_of_too_much_formatting_is_a_400_with_the_reason(client, alice):
    response = client.post("/preview", data={"body": "![" * 50_000})
    assert response.status_code == 400
    assert "too much formatting" in response.get_data(as_text=True)


def test_a_stored_post_past_the_budget_is_shown_as_plain_text(app, client, alice, make_post):
    post_id = make_post(alice, title="Old", body="fine")
    with app.app_context(), transaction():
        # Written before the budget existed (or by plain SQL): rendered again on read.
        connection().execute(
            sa.text("UPDATE post SET body = :body, body_html = NULL WHERE id = :id"),
            {"body": "<b>" + "![" * 30_000, "id": post_id},
        )
    response = client.get(f"/{post_id}/old")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<p>&lt;b&gt;![![![" in page


def _limited(make_app, make_user, auth_as: str = "alice"):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_WRITE="3 per minute")
    client = app.test_client()
    response = client.post("/auth/login", data={"username": auth_as, "password": PW})
    assert response.status_code == 302
    return client


def test_previews_past_the_write_budget_answer_429(make_app, make_user):
    make_user("alice", PW)
    make_user("bob", PW)
    alice = _limited(make_app, make_user)
    statuses = [alice.post("/preview", data={"body": "*x*"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Per user, not per address: bob, on the same address, still previews.
    bob = _limited(make_app, make_user, auth_as="bob")
    assert bob.post("/preview", data={"body": "*x*"}).status_code == 200


def test_saves_past_the_write_budget_answer_429(make_app, make_user):
    make_user("alice", PW)
    client = _limited(make_app, make_user)
    statuses = [
        client.post("/create", data={"title": f"Post {n}", "body": "x"}).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert client.get("/create").status_code == 200  # opening the editor is free
