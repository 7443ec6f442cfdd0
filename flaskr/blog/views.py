"""The front page, post pages, and writing, editing and deleting posts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from flaskr.auth import login_required
from flaskr.blog import queries, services
from flaskr.blog.slugs import slugify
from flaskr.paging import make_page, page_number
from flaskr.security import audit
from flaskr.validation import ValidationError

bp = Blueprint("blog", __name__)


def get_post(post_id: int, check_author: bool = True) -> dict[str, Any]:
    """The post, or 404 when it does not exist; 403 when the user may not edit it."""
    post = queries.find_post(post_id)
    if post is None:
        abort(404, f"Post id {post_id} doesn't exist.")
    if check_author and post["author_id"] != g.user["id"]:
        audit("forbidden", post_id=post_id, path=request.path)
        abort(403)
    return dict(post)


def post_form() -> dict[str, str]:
    """The editor's fields from the submitted form."""
    return {"title": request.form.get("title", ""), "body": request.form.get("body", "")}


@bp.route("/hello")
def hello() -> str:
    """A plain greeting: the cheapest page, used as the speed baseline."""
    return "Hello, World!"


@bp.route("/")
def index():
    """The newest published posts, a page at a time."""
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    rows = queries.list_posts(page=number, per_page=per_page)
    page = make_page(rows, number, per_page)
    page.items = services.with_html(page.items)
    return render_template("blog/index.html", posts=page.items, page=page)


@bp.route("/<int:post_id>/")
@bp.route("/<int:post_id>/<slug>")
def detail(post_id: int, slug: str | None = None):
    """One post on its own page, at its canonical address."""
    post = queries.find_post(post_id)
    if post is None or not services.is_visible(post):
        abort(404)
    canonical = slugify(post["title"])
    if slug != canonical:
        return redirect(url_for("blog.detail", post_id=post_id, slug=canonical), 301)
    (post,) = services.with_html([post])
    return render_template("blog/detail.html", post=post)


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create():
    """Write a new post."""
    if request.method == "POST":
        try:
            services.create_post(g.user["id"], **post_form())
        except ValidationError as error:
            flash(str(error))
        else:
            return redirect(url_for("blog.index"))
    return render_template("blog/create.html")


@bp.route("/<int:post_id>/update", methods=("GET", "POST"))
@login_required
def update(post_id: int):
    """Edit a post; only its author may."""
    post = get_post(post_id)
    if request.method == "POST":
        try:
            services.revise_post(post_id, **post_form())
        except ValidationError as error:
            flash(str(error))
        else:
            return redirect(url_for("blog.index"))
    return render_template("blog/update.html", post=post)


@bp.route("/<int:post_id>/delete", methods=("POST",))
@login_required
def delete(post_id: int):
    """Delete a post; only its author may."""
    get_post(post_id)
    services.delete_post(post_id)
    return redirect(url_for("blog.index"))


@bp.app_template_global()
def post_url(post: Any) -> str:
    """The canonical address of a post."""
    return url_for("blog.detail", post_id=post["id"], slug=slugify(post["title"]))
