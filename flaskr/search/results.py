"""Posts found by a search as their results show them, rendered once per process for
as long as nothing a result shows changes.

A result is the post's address, title and date, and a snippet of its text
with the searched words marked: made in Python and rendered by a macro, about
40 microseconds a result, more than a search's three statements. The same results
come up again and again (a popular search, its next page, a signed-in
reader whom the page cache never serves), so each rendered result is kept
under a key made of everything it shows - the post's title, address, author,
date, language and text themselves, not a version number, and the searched
words' stems, the reader's time zone and the script root - so a change made
any way at all (the editor, a rename, plain SQL) makes a new key, and a kept
result is never shown for a post that has changed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from markupsafe import Markup, escape

from flaskr.blog.urls import post_url
from flaskr.contexts import this_request
from flaskr.fragments import Fragments
from flaskr.i18n.dates import day, reader_zone
from flaskr.i18n.languages import link_language, text_language
from flaskr.search.snippets import START, STOP, Highlighter

#: The macro file a result is rendered from.
TEMPLATE = "macros/search.html"
#: Bytes of kept results (and the texts in their keys) per worker; least recently used go first.
MAX_BYTES = 8 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Give the app its kept search results."""
    app.extensions["flaskr.search.results"] = Fragments[Markup](MAX_BYTES)


def post_results(rows: list[Any], words: Highlighter) -> Markup:
    """The results of the posts found (rows of search.queries.search_posts), each
    kept, or made, rendered and kept."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept: Fragments[Markup] = app.extensions["flaskr.search.results"]
    template = app.jinja_env.get_template(TEMPLATE)
    page = (
        # The loaded macro file, compiled for the page's language (one copy per
        # language: i18n.templates), which decides the words around each result
        # and whether a post's language is foreign to the page.
        template,
        # How the words found are marked depends on their stems alone.
        words.algorithm,
        words.stems,
        this_request().script_root,
        reader_zone(),  # the date, in the reader's zone
    )
    shown = []
    for row in rows:
        key = (
            page,
            row["id"],
            row["title"],
            row["slug"],
            row["language"],
            row["published_at"],
            row["username"],
            row["body"],
        )
        found = kept.get(key)
        if found is None:
            # A macro of an autoescaped template returns Markup: its own escaping is kept.
            found = template.module.result(_post_shown(row, words))
            kept.put(key, found, len(found) + len(row["body"]))
        shown.append(found)
    # Joined as text and marked once: each piece is markup the macro made.
    return Markup("\n".join(shown))  # noqa: S704  # nosec B704 - markup only


def marked(text: str | None) -> Markup:
    """Escape text, then turn the search's match markers into <mark> elements."""
    safe = str(escape(text or ""))
    return Markup(  # noqa: S704  # nosec B704 - built from escaped text and our own fixed tags
        safe.replace(START, "<mark>").replace(STOP, "</mark>")
    )


def _post_shown(row: Any, words: Highlighter) -> dict[str, Any]:
    """A post found, with its address, date and marked title and snippet as shown."""
    post = dict(row)
    post["url"] = post_url(post)
    # A post in another language than the page's says so, on its links and its text.
    post["link_language"] = link_language(post)
    post["text_language"] = text_language(post)
    post["title_html"] = marked(words.whole(post["title"]))
    post["snippet_html"] = marked(words.snippet(post.pop("body")))
    post["day"] = day(post["published_at"])
    return post
