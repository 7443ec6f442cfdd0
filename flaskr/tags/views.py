"""A page per tag, and the list of all tags with their post counts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from flaskr.blog import services as blog_services
from flaskr.pagecache import cached_page
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import public
from flaskr.tags import queries

bp = Blueprint("tags", __name__)

TAGS_PER_PAGE = 200


@bp.route("/tags")
@public
@cached_page
def index():
    """Every tag, alphabetically, with how many posts carry it."""
    number = page_number()
    rows = queries.list_tags(page=number, per_page=TAGS_PER_PAGE)
    page = existing(make_page(rows, number, TAGS_PER_PAGE))
    return render_template("tags/index.html", tags=page.items, page=page)


@bp.route("/tag/<name>")
@public
@cached_page
def tag(name: str):
    """The posts carrying one tag, newest first."""
    page = blog_services.readers_page(page_number(), tag=name)
    if not page.items:
        # No such tag, one only drafts and scheduled posts carry (to readers it does
        # not exist yet), or a page past the end.
        abort(404)
    return render_template("tags/tag.html", tag={"name": name}, posts=page.items, page=page)
