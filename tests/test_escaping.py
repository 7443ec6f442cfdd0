"""Templates escape as markupsafe does, without copying what is already markup."""

from __future__ import annotations

import markupsafe
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markupsafe import Markup

from flaskr import escaping


class Html:
    """An object that renders itself as HTML, as Markup-aware objects do."""

    def __html__(self) -> str:
        return "<i>mine</i>"


class Word(str):
    """A str subclass: escaped as text, like markupsafe does."""


class Bold(Markup):
    """A Markup subclass: markup still, never escaped again."""


@pytest.mark.db_independent  # markupsafe's rules alone: no database
@given(st.text())
@example("<script>alert('x')</script>")
@example('Tom & "Jerry" > cat')
@example("")
def test_text_is_escaped_exactly_as_markupsafe_escapes_it(text):
    escaped = escaping.escape(text)
    assert escaped == markupsafe.escape(text)
    assert type(escaped) is Markup


@pytest.mark.db_independent
@pytest.mark.parametrize(
    "value",
    [42, 1.5, None, Html(), Word("<b>"), Bold("<b>&amp;</b>"), Markup("<b>&amp;</b>"), Markup("")],
    ids=repr,
)
def test_every_other_kind_of_value_is_escaped_as_markupsafe_escapes_it(value):
    escaped = escaping.escape(value)
    assert escaped == markupsafe.escape(value)
    assert type(escaped) is Markup


@pytest.mark.db_independent
def test_markup_is_given_back_itself_never_copied():
    # A rendered post is Markup of many kilobytes: building a new one per
    # {{ post }} was what this module saves.
    post = Markup("<p>" + "words " * 2000 + "</p>")
    assert escaping.escape(post) is post


def test_the_apps_templates_escape_with_it(app):
    with app.app_context():
        from_string = app.jinja_env.from_string("{{ value }}")
        loaded = app.jinja_env.get_template("base.html")
        assert from_string.root_render_func.__globals__["escape"] is escaping.escape
        assert loaded.root_render_func.__globals__["escape"] is escaping.escape
        shown = from_string.render(value="<script>'&\"</script>")
        kept = from_string.render(value=Markup("<b>bold</b>"))
    assert shown == "&lt;script&gt;&#39;&amp;&#34;&lt;/script&gt;"
    assert kept == "<b>bold</b>"


def test_a_post_title_is_escaped_on_the_pages_listing_it(client, make_user, make_post):
    make_post(make_user(), title="<img src=x onerror=alert(1)> & 'Q'")
    page = client.get("/").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;Q&#39;" in page
    assert "<img src=x" not in page
