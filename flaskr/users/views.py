"""An author's public page: bio and published posts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from flaskr.auth import queries as auth_queries
from flaskr.blog import services as blog_services
from flaskr.pagecache import cached_page
from flaskr.paging import existing, page_number
from flaskr.policy import public

bp = Blueprint("users", __name__)


@bp.route("/u/<path:username>")
@public
@cached_page
def profile(username: str):
    """An author's bio and posts, newest first."""
    page = blog_services.readers_page(page_number(), author=username)
    # Each of their posts carries the author's profile; an author with none to show
    # on this page is looked up on their own.
    author = (
        auth_queries.profile_in(page.items[0])
        if page.items
        else auth_queries.find_user_by_name(username)
    )
    if author is None:
        abort(404)
    existing(page)
    return render_template("users/profile.html", author=author, posts=page.items, page=page)
