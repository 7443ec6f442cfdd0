"""The <head> of a post's own page, rendered once per process for as long as nothing in it changes.

Its canonical address, Open Graph and Twitter cards, tags and comments' feed
took a post's page about 30 microseconds to render, a seventh of the page's
template time: an absolute url_for(), the first picture looked for in the
body, and two dozen escaped values. What it shows is the same for every
reader of the post, so the rendered HTML is kept under a key made of
everything it reads - the post's id, title, address, summary, dates, tags,
cover and rendered body themselves, not a version number, its state, and the
site's address and name and the page's language - so a change made any way
at all (the editor, a rename, plain SQL, another Host) makes a new key, and a
kept copy is never shown for a post that has changed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from markupsafe import Markup

from flaskr import markup
from flaskr.blog import urls
from flaskr.fragments import Fragments

#: The macro file the head is rendered from.
TEMPLATE = "macros/post_head.html"
#: Bytes of kept heads (and the bodies in their keys) per worker; least recently used go first.
MAX_BYTES = 4 * 1024 * 1024
#: A post whose rendered body is longer than this has its head rendered each time, never kept.
MAX_BODY = 64 * 1024


def init_app(app: Flask) -> None:
    """Give the app its kept heads and templates the `post_head` function."""
    app.extensions["flaskr.post_heads"] = Fragments[Markup](MAX_BYTES)
    app.add_template_global(post_head)


def post_head(post: dict[str, Any], state: str) -> Markup:
    """The <head> elements of the post's own page (`post` from blog.services.with_html,
    `state` from blog.services.post_state): kept, or rendered and kept."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_template(TEMPLATE)
    key = (
        # The loaded macro file, compiled for the page's language (one copy per
        # language: i18n.templates), so the comments feed's title in another
        # language is another key; an edited template (auto-reload) renders anew.
        template,
        state,
        # What the absolute addresses are made of (url_for(_external=True) and
        # the Host header), and the site's name.
        request.scheme,
        request.host,
        request.script_root,
        app.config["SITE_NAME"],
        post["id"],
        post["title"],
        post["slug"],
        post["summary"],
        post["published_at"],
        post["updated"],
        tuple(post["tags"]),
        post["cover"],
        post["body_html"],
    )
    kept: Fragments[Markup] = app.extensions["flaskr.post_heads"]
    found = kept.get(key)
    if found is not None:
        return found
    url = urls.post_url(post, _external=True)
    cover = post["cover"]
    picture = markup.first_picture(
        markup.picture_html(cover, lazy=False) if cover else post["body_html"]
    )
    picture_url = None
    if picture is not None:
        src = picture["src"]
        picture_url = src if "//" in src else request.host_url.rstrip("/") + src
    # A macro of an autoescaped template returns Markup: its own escaping is kept.
    html: Markup = template.module.head(post, state, url, picture, picture_url)
    if len(post["body_html"]) <= MAX_BODY:
        # The key holds the rendered body: it counts as much as the head.
        kept.put(key, html, len(html) + len(post["body_html"]))
    return html
