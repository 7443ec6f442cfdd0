"""The search page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from flaskr.contexts import this_request
from flaskr.i18n.dates import day
from flaskr.links import link
from flaskr.pagecache import cached_page
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import public
from flaskr.search import queries, results
from flaskr.search.snippets import Highlighter, highlighter
from flaskr.search.terms import QUERY_MAX

bp = Blueprint("search", __name__)


#: Comments shown under the first page of posts found; "More comments" lists them all.
COMMENTS_SHOWN = 3


@bp.route("/search")
@public
@cached_page
def search():
    """Posts matching the words typed, best first; filter by tag or author. The comments
    found come after the posts (in=comments: only comments, newest first)."""
    # A plain dict (each name's first value, as get() gives): werkzeug's get() raises
    # and catches an exception for each absent name.
    args = this_request().args.to_dict()
    text = args.get("q", "")[:QUERY_MAX]
    tag_name = args.get("tag", "")[:40].strip().lower() or None
    author = args.get("author", "")[:150] or None
    in_comments = args.get("in") == "comments"
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    page = comments = None
    if text.strip() and in_comments:
        rows = queries.search_comments(text, page=number, per_page=per_page)
        comments = existing(make_page(rows, number, per_page))
    elif text.strip():
        rows = queries.search_posts(
            text, page=number, per_page=per_page, tag_name=tag_name, author=author
        )
        page = existing(make_page(rows, number, per_page))
        if number == 1 and not tag_name and not author:
            found = queries.search_comments(text, page=1, per_page=COMMENTS_SHOWN)
            comments = make_page(found, 1, COMMENTS_SHOWN)
    words = highlighter(text, queries.stemming())
    shown = results.post_results(page.items, words) if page is not None else None
    if comments is not None:
        comments.items = [_comment_shown(row, words) for row in comments.items]
    return render_template(
        "search/search.html",
        q=text,
        tag=tag_name,
        author=author,
        page=page,
        comments=comments,
        in_comments=in_comments,
        results=shown,
    )


# What the page shows of each comment found, made here rather than by template calls:
# a dozen calls per result cost the page more than its search (posts: search.results).


def _comment_shown(row: Any, words: Highlighter) -> dict[str, Any]:
    """A comment found, with its address, date and marked snippet as shown."""
    comment = dict(row)
    comment["url"] = link("comments.permalink", comment_id=comment["id"])
    comment["snippet_html"] = results.marked(words.snippet(comment.pop("body")))
    comment["day"] = day(comment["created_at"])
    return comment
