"""Links in templates: constant link() calls compiled to table lookups, and templates'
globals (flaskr.links, flaskr.i18n.templates.LanguageEnvironment)."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from markupsafe import Markup

from flaskr import links

pytestmark = pytest.mark.db_independent


def _compiled(app: Flask, source: str) -> str:
    return app.jinja_env.compile(source, raw=True)


def _render(app: Flask, source: str, root: str = "", **context: object) -> str:
    with app.test_request_context("/", base_url=f"http://localhost{root}"):
        return app.jinja_env.from_string(source).render(**context, **_processed(app))


def _processed(app: Flask) -> dict[str, object]:
    found: dict[str, object] = {}
    app.update_template_context(found)
    return found


def test_a_constant_call_compiles_to_a_lookup_and_builds_the_same_link(app: Flask) -> None:
    source = "{{ link('static', filename='style.css') }}|{{ link('feeds.site', kind='atom') }}"
    code = _compiled(app, source)
    assert "'link'" not in code and links.TABLE in code
    for root in ("", "/blog"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            expected = (
                f"{url_for('static', filename='style.css')}|{url_for('feeds.site', kind='atom')}"
            )
        assert _render(app, source, root) == expected
    assert _render(app, source, "/blog").startswith("/blog/static/style.css|/blog/feed")
    with app.test_request_context("/"):
        # Pages get the table itself: a lookup in it is a plain dict lookup.
        assert type(_processed(app)[links.TABLE]) is links.LinkTable


def test_values_written_in_any_order_share_one_entry(app: Flask) -> None:
    first = _compiled(app, "{{ link('search.search', q='a', page='2') }}")
    second = _compiled(app, "{{ link('search.search', page='2', q='a') }}")
    key = '["search.search", [["page", "2"], ["q", "a"]]]'
    assert key in first and key in second


@pytest.mark.parametrize(
    "source",
    [
        "{{ link('blog.detail', post_id=post_id, slug='s') }}",  # a value from the page
        "{{ link(endpoint) }}",
        "{{ link('blog.detail', **values) }}",
        "{{ link('blog.detail', post_id=3, slug='s') }}",  # a number: not a quoted string
        "{{ link(\"tags.index\" ~ '') }}",
    ],
)
def test_calls_with_other_values_stay_calls(app: Flask, source: str) -> None:
    code = _compiled(app, source)
    assert links.TABLE not in code and "'link'" in code
    rendered = _render(
        app,
        source,
        post_id=3,
        endpoint="tags.index",
        values={"post_id": 3, "slug": "s"},
    )
    assert rendered in ("/3/s", "/tags")


def test_an_attribute_named_link_is_left_alone(app: Flask) -> None:
    source = "{{ item.link('x') }}"
    assert links.TABLE not in _compiled(app, source)
    assert _render(app, source, item={"link": lambda value: f"<{value}>"}) == "&lt;x&gt;"


def test_macro_files_called_through_their_module_see_the_table(app: Flask) -> None:
    # Macro modules get the environment's globals, not the context processors'.
    macro = app.jinja_env.from_string(
        "{% macro nav() %}{{ link('tags.index') }}{% endmacro %}"
    ).module
    for root in ("", "/blog"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            assert str(macro.nav()) == f"{root}/tags"


def test_the_pages_own_links_are_unchanged(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/", base_url="http://localhost/blog").get_data(as_text=True)
    for href in ("/blog/static/style.css", "/blog/tags", "/blog/feed.atom", "/blog/auth/login"):
        assert f'href="{href}"' in page


def test_tables_are_kept_for_a_bounded_number_of_script_roots(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(links, "MAX_ROOTS", 2)
    source = "{{ link('tags.index') }}"
    for root in ("/a", "/b", "/c", "/d"):
        assert _render(app, source, root) == f"{root}/tags"
    assert sorted(app.extensions["flaskr.link_tables"]) == ["/a", "/b"]


def test_templates_share_the_environments_globals(app: Flask) -> None:
    template = app.jinja_env.get_template("base.html")
    assert template.globals is app.jinja_env.globals


def test_a_templates_own_globals_never_reach_the_environment(app: Flask) -> None:
    template = app.jinja_env.from_string("{{ only_here }}", globals={"only_here": "mine"})
    with app.test_request_context("/"):
        assert template.render() == "mine"
    assert "only_here" not in app.jinja_env.globals
    with app.test_request_context("/"):
        assert app.jinja_env.from_string("{{ only_here }}").render() == ""


def test_a_link_with_characters_to_escape_is_escaped_where_pages_escape_and_only_there(app):
    source = "{{ link('search.search', q='a', tag='b') }}"
    assert _render(app, source) == "/search?q=a&amp;tag=b"
    plain = app.jinja_env.overlay(autoescape=False)
    with app.test_request_context("/"):
        assert plain.from_string(source).render(**_processed(app)) == "/search?q=a&tag=b"
        table = _processed(app)[links.TABLE]
        # A link with nothing to escape is kept as markup: pages write it as it is.
        assert type(table['["tags.index", []]']) is Markup
        assert type(table['["search.search", [["q", "a"], ["tag", "b"]]]']) is str
