"""A comment's byline and text as HTML, rendered once per process while nothing in it changes.

A thread page shows up to COMMENTS_PER_PAGE comments; running the macro for
each was most of a long thread's render time, and the same comments are shown
to every reader of the post. As with blog.articles, the HTML is kept under a
key made of everything the macro reads (the values themselves), so an edit, a
rename or a moderation makes a new key and a kept copy never outlives what it
shows. What a comment offers the reader (edit, delete, moderate) depends on
who reads and when, and is never kept.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from markupsafe import Markup

from flaskr.fragments import Fragments
from flaskr.i18n import current_language
from flaskr.i18n.dates import reader_zone

#: The macro file and the macro in it (`comment_text`).
TEMPLATE = "macros/comments.html"
#: Bytes of kept HTML (and the texts in the keys) per worker process.
MAX_BYTES = 8 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Give templates `comment_shown(c)`: the comment's byline and text, kept."""
    app.extensions["flaskr.comments.shown"] = Fragments[Markup](MAX_BYTES)
    app.add_template_global(comment_shown)


def comment_shown(comment: dict[str, Any]) -> Markup:
    """The comment's byline and text (or "[deleted]"): kept, or rendered and kept."""
    # What every comment on the page shares, looked up once per request.
    shared = g.get("comment_shown")
    if shared is None:
        template = current_app.jinja_env.get_template(TEMPLATE)
        # The loaded macro file is in the key: an edited template (auto-reload) renders anew.
        shared = g.comment_shown = (
            template,
            request.script_root,
            current_language(),
            reader_zone(),
        )
    key = (
        *shared,
        comment["id"],
        comment["status"],
        comment["username"],
        comment["created_at"],
        comment["edited_at"],
        comment["body_html"],
    )
    kept: Fragments[Markup] = current_app.extensions["flaskr.comments.shown"]
    found = kept.get(key)
    if found is not None:
        return found
    html: Markup = shared[0].module.comment_text(comment)
    kept.put(key, html, 2 * len(html))  # the key holds the text once more
    return html
