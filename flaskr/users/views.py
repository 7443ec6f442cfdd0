"""An author's public page: bio and published posts."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from flaskr.auth import login_required
from flaskr.auth import queries as auth_queries
from flaskr.blog import services as blog_services
from flaskr.blog.tables import post
from flaskr.pagecache import cached_page
from flaskr.paging import page_number
from flaskr.users import services
from flaskr.validation import ValidationError

bp = Blueprint("users", __name__)


@bp.route("/u/<path:username>")
@cached_page
def profile(username: str):
    """An author's bio and posts, newest first."""
    author = auth_queries.find_user_by_name(username)
    if author is None:
        abort(404)
    page = blog_services.readers_page(page_number(), where=post.c.author_id == author["id"])
    return render_template("users/profile.html", author=author, posts=page.items, page=page)


@bp.route("/account/profile", methods=("POST",))
@login_required
def update_profile():
    """Change your bio and time zone."""
    try:
        services.update_profile(
            g.user["id"], request.form.get("bio", ""), request.form.get("timezone", "UTC")
        )
    except ValidationError as error:
        flash(str(error))
        return render_template("auth/account.html"), 400
    flash("Your profile has been saved.")
    return redirect(url_for("auth.account"))
