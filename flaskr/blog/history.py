"""A post's earlier versions: list them, compare one with today's text, restore it."""

from __future__ import annotations

import difflib

from flask import abort, current_app, flash, redirect, render_template, url_for

from flaskr.auth import login_required
from flaskr.blog import queries, services
from flaskr.blog.views import bp, get_post
from flaskr.paging import make_page, page_number


@bp.route("/<int:post_id>/revisions")
@login_required
def revisions(post_id: int):
    """The earlier versions of one of your posts."""
    post = get_post(post_id)
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    rows = queries.list_revisions(post_id, page=number, per_page=per_page)
    page = make_page(rows, number, per_page)
    return render_template("blog/revisions.html", post=post, revisions=page.items, page=page)


@bp.route("/<int:post_id>/revisions/<int:version>")
@login_required
def revision(post_id: int, version: int):
    """What changed between an earlier version and the post as it is now."""
    post = get_post(post_id)
    old = queries.find_revision(post_id, version)
    if old is None:
        abort(404)
    old_text = f"# {old['title']}\n\n{old['body']}\n\nTags: {old['tags']}".splitlines()
    tags = ", ".join(services.tag_names(post_id))
    new_text = f"# {post['title']}\n\n{post['body']}\n\nTags: {tags}".splitlines()
    diff = list(
        difflib.unified_diff(
            old_text,
            new_text,
            f"version {version}",
            f"version {post['version']} (now)",
            lineterm="",
        )
    )
    return render_template("blog/revision.html", post=post, old=old, diff=diff)


@bp.route("/<int:post_id>/revisions/<int:version>/restore", methods=("POST",))
@login_required
def restore(post_id: int, version: int):
    """Make an earlier version current again (kept as a new version)."""
    get_post(post_id)
    if queries.find_revision(post_id, version) is None:
        abort(404)
    new_version = services.restore_revision(post_id, version)
    flash(f"Version {version} restored as version {new_version}.")
    return redirect(url_for("blog.revisions", post_id=post_id))
