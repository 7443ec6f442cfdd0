"""The author's trash: what they deleted, to restore or delete for good."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import authorize
from flaskr.trash import services

bp = Blueprint("trash", __name__, url_prefix="/me/trash")


def _trashed(post_id: int):  # noqa: ANN202 - a row mapping
    # The author only, and 404 for anyone else: a trashed post is nobody else's business.
    return authorize("trash:manage", services.find(post_id), hide=True)


@bp.route("/")
@login_required
def index():
    """The signed-in author's deleted posts, most recently deleted first."""
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    rows = services.trashed_page(g.user["id"], number, per_page)
    page = existing(make_page(rows, number, per_page))
    days = current_app.config["TRASH_DAYS"]
    return render_template("trash/index.html", posts=page.items, page=page, days=days)


@bp.route("/<int:post_id>/restore", methods=("POST",))
@login_required
def restore(post_id: int):
    """Put a deleted post back where it was."""
    trashed = _trashed(post_id)
    if not services.restore(post_id):  # restored or purged a moment ago
        flash(gettext("That post is no longer in the trash."))
        return redirect(url_for("trash.index"))
    flash(gettext('Restored "%(title)s".', title=trashed["title"]))
    return redirect(url_for("blog.update", post_id=post_id))


@bp.route("/<int:post_id>/delete", methods=("POST",))
@login_required
def delete_forever(post_id: int):
    """Delete a post in the trash for good."""
    trashed = _trashed(post_id)
    services.delete_forever(post_id)
    flash(gettext('Deleted "%(title)s" for good.', title=trashed["title"]))
    return redirect(url_for("trash.index"))
