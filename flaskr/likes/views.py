"""Like and unlike: a plain form POST, answered with JSON when the page's script asks."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, redirect, request
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.blog import queries as blog_queries
from flaskr.blog.urls import post_url
from flaskr.likes import services
from flaskr.policy import authorize
from flaskr.ratelimit import write_limit
from flaskr.security import wants_json

bp = Blueprint("likes", __name__)

#: The form's `like` field: 1 to like, 0 to take the like back.
CHOICES = {"1": True, "0": False}


@bp.route("/<int:post_id>/like", methods=("GET", "POST"))
@login_required
@write_limit
def like(post_id: int):
    """Like the post (like=1) or take the like back (like=0), then go back to the post.

    A GET changes nothing: it is where a visitor's "Log in to like this post"
    leads, so that signing in comes back to the post's like button.
    """
    # hide: a draft's address must look like nothing is there, here as on its page.
    post = authorize("post:like", blog_queries.find_post(post_id), hide=True)
    if request.method == "GET":
        return redirect(post_url(post) + "#likes", code=303)
    choice = request.form.get("like", "")
    if choice not in CHOICES:
        abort(400, description=gettext("Say whether you like the post: like=1 or like=0."))
    liked = CHOICES[choice]
    count = services.set_like(post["id"], g.user["id"], liked)
    if wants_json():
        return jsonify(liked=liked, count=count, text=services.count_text(count))
    return redirect(post_url(post) + "#likes", code=303)
