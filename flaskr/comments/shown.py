"""A comment as its thread shows it; its byline and text rendered once per process while
nothing in them changes.

A thread page shows up to COMMENTS_PER_PAGE comments; running a macro for
each was most of a long thread's render time, and the same comments are shown
to every reader of the post. As with blog.articles, the byline and text are
kept under a key made of everything the macro reads (the values themselves),
so an edit, a rename or a moderation makes a new key and a kept copy never
outlives what it shows. What a comment offers the reader (edit, delete,
moderate) depends on who reads and when, and is never kept: it is rendered
for signed-in readers only, as visitors are offered nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask, current_app, g, request
from markupsafe import Markup, escape

from flaskr.fragments import Fragments
from flaskr.i18n import current_language
from flaskr.i18n.dates import reader_zone

#: The macro file (`comment_text`, `comment_actions`).
TEMPLATE = "macros/comments.html"
#: Bytes of kept HTML (and the texts in the keys) per worker process.
MAX_BYTES = 8 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Give templates `comment_article(c, thread)`."""
    app.extensions["flaskr.comments.shown"] = Fragments[Markup](MAX_BYTES)
    app.add_template_global(comment_article)


class _Shared(NamedTuple):
    """What every comment on one page shares."""

    #: The loaded macro file, the script root, the reader's language and time zone.
    key: tuple[Any, ...]
    kept: Fragments[Markup]
    #: The signed-in reader (None: a visitor), who alone is offered actions.
    user: Any


def comment_article(comment: dict[str, Any], thread: Any) -> Markup:
    """The comment's <article>: its byline and text (or "[deleted]"), kept, and what the
    signed-in reader may do with it. `thread`: comments.services.Thread."""
    # What every comment on the page shares, looked up once per request (`g`'s
    # object itself: each lookup through the proxy costs, fifty times a page).
    state = g._get_current_object()
    shared: _Shared | None = state.__dict__.get("comment_shown")
    if shared is None:
        shared = state.comment_shown = _Shared(
            # The loaded macro file is in the key: an edited template (auto-reload) renders anew.
            (
                current_app.jinja_env.get_template(TEMPLATE),
                request.script_root,
                current_language(),
                reader_zone(),
            ),
            current_app.extensions["flaskr.comments.shown"],
            state.__dict__.get("user"),
        )
    template = shared.key[0]
    status = comment["status"]
    key = (
        *shared.key,
        comment["id"],
        status,
        comment["username"],
        comment["created_at"],
        comment["edited_at"],
        comment["body_html"],
    )
    text = shared.kept.get(key)
    if text is None:
        text = template.module.comment_text(comment)
        shared.kept.put(key, text, 2 * len(text))  # the key holds the text once more
    actions = ""
    if shared.user is not None and status != "deleted":
        actions = template.module.comment_actions(comment, thread)
    css = "comment" if status == "published" else f"comment comment-{escape(status)}"
    # Joined by hand: Markup.format() cost more than the kept text saved. text and
    # actions are Markup already; the id is an integer.
    html = f'<article class="{css}" id="comment-{int(comment["id"])}">{text}{actions}</article>'
    return Markup(html)  # noqa: S704  # nosec B704
