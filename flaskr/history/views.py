"""A post's history pages: the list of versions, one version's diff, and restoring it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext

from flaskr.auth import login_required
from flaskr.auth import queries as auth_queries
from flaskr.blog import queries as blog_queries
from flaskr.history import queries, services
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import authorize

bp = Blueprint("history", __name__)


@bp.route("/<int:post_id>/revisions")
@login_required
def revisions(post_id: int):
    """The earlier versions of one of your posts."""
    post = authorize("post:update", blog_queries.find_post(post_id))
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    rows = queries.list_revisions(post_id, page=number, per_page=per_page)
    total = queries.count_revisions(post_id)
    page = existing(make_page(rows, number, per_page, total=total))
    return render_template(
        "history/revisions.html",
        post=post,
        revisions=page.items,
        page=page,
        saved_by=auth_queries.find_username(post["saved_by"]),
    )


@bp.route("/<int:post_id>/revisions/<int:version>")
@login_required
def revision(post_id: int, version: int):
    """What changed between an earlier version and the post as it is now."""
    post = authorize("post:update", blog_queries.find_post(post_id))
    old = queries.find_revision(post_id, version)
    if old is None:
        abort(404)
    diff = services.diff_with_current(post, old)
    return render_template(
        "history/revision.html",
        post=post,
        old=old,
        diff=diff,
        saved_by=auth_queries.find_username(old["saved_by"]),
    )


@bp.route("/<int:post_id>/revisions/<int:version>/restore", methods=("POST",))
@login_required
def restore(post_id: int, version: int):
    """Make an earlier version current again (kept as a new version)."""
    authorize("post:update", blog_queries.find_post(post_id))
    if queries.find_revision(post_id, version) is None:
        abort(404)
    new_version = services.restore_revision(post_id, version, by=g.user["id"])
    flash(gettext("Version %(old)d restored as version %(new)d.", old=version, new=new_version))
    return redirect(url_for("history.revisions", post_id=post_id))
