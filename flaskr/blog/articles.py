"""A post as lists show it, rendered once per process for as long as nothing it shows changes.

A list page shows ten posts through the `article` macro (title, byline, tags,
body); rendering them is a third of the page's time, and the same posts are
shown again and again: on the index, their tags' pages, their author's page,
to every signed-in reader (whom the page cache never serves). The rendered
HTML is kept under a key made of everything the macro reads - the post's
title, author, dates, tags and rendered body themselves, not a version number
- so a change made any way at all (the editor, a rename, plain SQL) makes a
new key, and a kept copy is never shown for a post that has changed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask
from jinja2 import Template
from markupsafe import Markup

from flaskr import markup
from flaskr.blog import urls
from flaskr.blog.excerpts import reading
from flaskr.contexts import this_g, this_request
from flaskr.fragments import Fragments
from flaskr.i18n import current_language
from flaskr.i18n.dates import reader_zone
from flaskr.policy import can

#: The macro file and the macro in it.
TEMPLATE = "macros/posts.html"
#: Bytes of kept HTML (and the bodies in the keys) per worker process; least recently used go first.
MAX_BYTES = 16 * 1024 * 1024
#: A post whose rendered body is longer than this is rendered each time, never kept.
MAX_BODY = 256 * 1024
#: Between two articles of a list (markup).
SEPARATOR = "\n<hr>\n"


def init_app(app: Flask) -> None:
    """Give the app its kept articles and page templates the `article` function."""
    kept = Fragments[Markup](MAX_BYTES)
    app.extensions["flaskr.articles"] = kept

    def bound() -> dict[str, Any]:
        # Bound per render, not looked up through current_app and the request at
        # each of a list page's ten calls: each context lookup costs.
        page: list[Page] = []

        def article_for_this_page(post: dict[str, Any], full: bool = False) -> Markup:
            if not page:
                page.append(
                    Page(
                        app.jinja_env.get_template(TEMPLATE),
                        this_request().script_root,
                        (current_language(), reader_zone()),
                        this_g().get("user"),
                    )
                )
            return article(kept, page[0], post, full)

        def articles(posts: list[dict[str, Any]]) -> Markup:
            # A list's articles in one call, a rule between each: a Jinja loop with
            # a call per post cost a list page about 2 microseconds a post more.
            return joined([article_for_this_page(post) for post in posts])

        return {"article": article_for_this_page, "articles": articles}

    app.context_processor(bound)


def joined(pieces: list[Markup]) -> Markup:
    """The articles with a rule between each; any piece that is not markup is escaped."""
    if all(type(piece) is Markup for piece in pieces):
        # Joined as text and marked once: Markup.join escapes (and so copies)
        # each article again, about a microsecond an article.
        return Markup(SEPARATOR.join(pieces))  # noqa: S704  # nosec B704 - markup only
    return Markup(SEPARATOR).join(pieces)  # noqa: S704  # nosec B704 - our own text


class Page(NamedTuple):
    """What every article on one page shares."""

    #: The loaded macro file, compiled for the page's language.
    template: Template
    script_root: str
    #: The reader's language and time zone.
    reader: tuple[str, str]
    #: The signed-in user (None: a visitor), whose rights decide the edit link.
    user: Any


def article(
    kept: Fragments[Markup],
    page: Page,
    post: dict[str, Any],
    full: bool = False,
) -> Markup:
    """The post's article HTML: kept, or rendered by the macro and kept.

    `post` is a row from blog.services.with_html(); its addresses, excerpt and
    reading time are made here when the macro has to run.
    """
    template = page.template
    key = (
        # The loaded macro file is part of the key: an edited template
        # (auto-reload) renders anew.
        template,
        full,
        can(page.user, "post:update", post),
        page.script_root,
        # The words around the post and how its dates are written are the
        # reader's: their language and time zone.
        page.reader,
        post["id"],
        post["title"],
        post["username"],
        post["published_at"],
        # Only a post's own page shows when it was updated: lists share one copy.
        post["updated"] if full else None,
        tuple(post["tags"]),
        post["body_html"],
        post["slug"],
        # Lists show the author's excerpt; the post's own page never does.
        None if full else post["excerpt"],
        post["language"],
        post.get("cover"),
        # Lists say how many like and comment on the post; its own page says it below.
        None if full else post.get("like_count"),
        None if full else post.get("comment_count"),
    )
    found = kept.get(key)
    if found is not None:
        return found
    urls.for_readers([post])
    post["reading"] = reading(post["body_html"], post["excerpt"])  # the excerpt, minutes to read
    cover = post.get("cover")
    post["cover_html"] = markup.picture_html(cover, lazy=not full) if cover else None
    # A macro of an autoescaped template returns Markup: its own escaping is kept.
    html: Markup = template.module.article(post, full)  # type: ignore[attr-defined]
    if len(post["body_html"]) <= MAX_BODY:
        # The key holds the rendered body: it counts as much as the article.
        kept.put(key, html, len(html) + len(post["body_html"]))
    return html
