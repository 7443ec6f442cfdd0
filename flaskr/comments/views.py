"""Comments: write, reply, edit and delete them; moderators' buttons and queue."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.blog import queries as blog_queries
from flaskr.blog.urls import post_url
from flaskr.comments import guests, queries, screening, services
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import authorize, can, post_is_public, public, require
from flaskr.ratelimit import config_value, limit, signed_in_user, signed_out, write_limit
from flaskr.validation import ValidationError

bp = Blueprint("comments", __name__)

#: Comments per account, and per address (several accounts behind one bot).
per_account = limit(
    config_value("RATELIMIT_COMMENT"),
    methods=["POST"],
    key_func=signed_in_user,
    exempt_when=signed_out,
)
per_address = limit(config_value("RATELIMIT_COMMENT_IP"), methods=["POST"])


def comment_url(post: Any, comment: Any, number: int = 1) -> str:
    """A comment's place on its post's page: the thread's page, then its anchor."""
    query = f"?comments={number}" if number > 1 else ""
    return f"{post_url(post)}{query}#comment-{comment['id']}"


def _readable_post(post_id: int) -> Any:
    """The post, if the signed-in user may read it; a post readers don't see yet has no
    comments, so it is 404 here (to its author too)."""
    post = authorize("post:read", blog_queries.find_post(post_id), hide=True)
    if not post_is_public(post):
        abort(404)
    return post


def _comment(comment_id: int, action: str) -> tuple[Any, Any]:
    """The comment and its post, if the signed-in user may do `action` to it (else 404/403)."""
    comment = authorize("comment:read", queries.find_comment(comment_id), hide=True)
    post = _readable_post(comment["post_id"])
    if action != "comment:read":
        authorize(action, comment)
    return comment, post


@bp.route("/<int:post_id>/comments", methods=("GET", "POST"))
@login_required
@per_account
@per_address
def create(post_id: int):
    """Add a comment (or, with parent_id, a reply) under the post.

    A GET changes nothing: it is where a visitor's "Log in to comment" leads, so
    that signing in comes back to the post's comment form.
    """
    post = _readable_post(post_id)
    if request.method == "GET":
        return redirect(post_url(post) + "#comments", code=303)
    if not can(g.user, "comment:create", post):
        if g.user["comments_banned"]:
            abort(403, description=gettext("An editor stopped your account from commenting."))
        abort(403, description=gettext("This post is closed to new comments."))
    form = _sent()
    try:
        comment = services.post_comment(post, g.user, form)
    except ValidationError as error:
        return _write_again(post, form, str(error))
    if comment["status"] == "held":
        flash(
            gettext("Thank you: your comment waits for a moderator, and shows here once approved.")
        )
    moderator = can(g.user, "comment:moderate", post)
    number = services.page_of(comment, g.user, moderator)
    return redirect(comment_url(post, comment, number), code=303)


def _sent() -> services.NewComment:
    """The comment form as sent."""
    return services.NewComment(
        body=request.form.get("body", ""),
        parent_id=request.form.get("parent_id", ""),
        stamp=request.form.get("stamp", ""),
        honeypot=request.form.get(screening.HONEYPOT, ""),
        name=request.form.get("name", ""),
        email=request.form.get("email", ""),
    )


@bp.route("/<int:post_id>/comments/guest", methods=("GET", "POST"))
@public
@per_address
def guest(post_id: int):
    """A visitor's comment, where the site takes guests' comments (COMMENTS_GUESTS; else
    404): the guest form (GET), or the comment saved until its address is confirmed."""
    if not current_app.config["COMMENTS_GUESTS"]:
        abort(404)
    post = _readable_post(post_id)
    if g.user is not None:  # signed in: the account's own form
        return redirect(post_url(post) + "#comments", code=303)
    if not can(None, "comment:create", post):
        abort(403, description=gettext("This post is closed to new comments."))
    if request.method == "GET":
        form = services.NewComment(body="", parent_id=request.args.get("parent_id", ""))
        return _write_again(post, form, "", status=200)
    form = _sent()
    try:
        guests.post_guest_comment(post, form)
    except ValidationError as error:
        return _write_again(post, form, str(error))
    flash(
        gettext(
            "Thank you: we sent a link to %(address)s. Your comment shows once you follow it.",
            address=form.email.strip(),
        )
    )
    return redirect(post_url(post) + "#comments", code=303)


@bp.route("/comments/confirm/<token>", methods=("GET", "POST"))
@public
@per_address
def confirm(token: str):
    """A guest confirms the address of their comment: a GET asks (mail scanners open
    links), a POST shows the comment (or hands it to a moderator)."""
    comment = guests.unverified_comment(token)
    if comment is None:
        abort(
            404,
            description=gettext(
                "This link does not work: it has expired or was used already. "
                "Write the comment again to get a new one."
            ),
        )
    post = _readable_post(comment["post_id"])
    if request.method == "GET":
        return render_template("comments/confirm.html", comment=comment, post=post)
    status = guests.confirm(comment, post)
    if status == "held":
        flash(gettext("Thank you: your comment waits for a moderator, and shows once approved."))
        return redirect(post_url(post) + "#comments", code=303)
    number = services.page_of({**comment, "status": status}, None, False)
    return redirect(comment_url(post, comment, number), code=303)


def _write_again(post: Any, form: services.NewComment, error: str, status: int = 400):
    """The comment form again, with the text as sent and what to change (400); for a
    guest, with their name and address too."""
    page = render_template(
        "comments/write.html",
        post=post,
        sent=form,
        body=form.body,
        parent_id=form.parent_id,
        error=error,
        stamp=screening.form_stamp(post["id"]),
    )
    return page, status


@bp.route("/comments/<int:comment_id>")
@public
def permalink(comment_id: int):
    """Go to the comment on its post's page (the right page of a long thread)."""
    comment, post = _comment(comment_id, "comment:read")
    moderator = can(g.user, "comment:moderate", post)
    number = services.page_of(comment, g.user, moderator)
    return redirect(comment_url(post, comment, number), code=303)


@bp.route("/comments/<int:comment_id>/edit", methods=("GET", "POST"))
@login_required
@write_limit
def edit(comment_id: int):
    """Change what one's comment says, within COMMENTS_EDIT_MINUTES of writing it."""
    comment, post = _comment(comment_id, "comment:update")
    body, error = comment["body"], None
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            status = services.edit_comment(comment, g.user, body)
        except ValidationError as exc:
            error = str(exc)
        else:
            if status == "held":
                flash(gettext("Your comment waits for a moderator again, and shows once approved."))
            return redirect(url_for("comments.permalink", comment_id=comment_id), code=303)
    page = render_template("comments/edit.html", post=post, comment=comment, body=body, error=error)
    return page, 400 if error else 200


@bp.route("/comments/<int:comment_id>/delete", methods=("POST",))
@login_required
@write_limit
def delete(comment_id: int):
    """Delete a comment: one's own, or (moderators) any under one's posts."""
    comment, post = _comment(comment_id, "comment:delete")
    services.delete_comment(comment)
    flash(gettext("The comment was deleted."))
    return redirect(post_url(post) + "#comments", code=303)


@bp.route("/comments/<int:comment_id>/moderate", methods=("POST",))
@login_required
@write_limit
def moderate(comment_id: int):
    """Approve, hide, unhide, reject or mark as spam one comment under the post."""
    comment, post = _comment(comment_id, "comment:read")
    authorize("comment:moderate", post)
    action = request.form.get("action", "")
    try:
        services.moderate([comment], action, g.user["id"])
    except ValidationError as error:
        abort(400, description=str(error))
    flash(_done(action, 1))
    back = request.form.get("next") == "queue"
    return redirect(url_for("comments.queue") if back else post_url(post) + "#comments", code=303)


def _done(action: str, count: int) -> str:
    return {
        "approve": gettext("Approved: %(num)d.", num=count),
        "unhide": gettext("Shown again: %(num)d.", num=count),
        "hide": gettext("Hidden: %(num)d.", num=count),
        "spam": gettext("Marked as spam: %(num)d.", num=count),
        "reject": gettext("Rejected and deleted: %(num)d.", num=count),
    }[action]


@bp.route("/comments/queue", methods=("GET", "POST"))
@login_required
@write_limit
def queue():
    """Comments waiting for approval on the posts one moderates, oldest first."""
    require("comments:queue")
    if request.method == "POST":
        return _moderate_many()
    number = page_number()
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    everyone = can(g.user, "comment:moderate", {"author_id": None})
    rows = queries.queue(None if everyone else g.user["id"], page=number, per_page=per_page)
    page = existing(make_page(rows, number, per_page))
    return render_template("comments/queue.html", page=page)


def _moderate_many():
    """The queue's buttons: one comment (item=action:id) or every ticked one (action, ids)."""
    form = request.form
    action, _, one = form.get("item", "").partition(":")
    raw_ids = [one] if one else form.getlist("ids")
    if not one:
        action = form.get("action", "")
    if action not in services.ACTIONS:
        abort(400, description=gettext("Choose approve, reject or spam."))
    ids = [int(raw) for raw in raw_ids if raw.isascii() and raw.isdigit() and len(raw) < 10]
    if not ids:
        flash(gettext("Tick the comments to act on first."))
        return redirect(url_for("comments.queue"), code=303)
    comments = [
        row
        for row in queries.find_many(ids)
        if can(g.user, "comment:moderate", {"author_id": row["post_author_id"]})
    ]
    changed = services.moderate(comments, action, g.user["id"])
    flash(_done(action, changed))
    return redirect(url_for("comments.queue"), code=303)


@bp.route("/<int:post_id>/comments/state", methods=("POST",))
@login_required
@write_limit
def state(post_id: int):
    """Open the post to new comments (open=1) or close it (open=0)."""
    post = authorize("post:update", blog_queries.find_post(post_id))
    is_open = _yes_or_no("open", gettext("Say whether comments are open: open=1 or open=0."))
    services.set_open(post["id"], is_open)
    flash(gettext("Comments are open.") if is_open else gettext("Comments are closed."))
    return redirect(post_url(post) + "#comments", code=303)


@bp.route("/comments/users/<int:user_id>/ban", methods=("POST",))
@login_required
@write_limit
def ban(user_id: int):
    """Stop an account commenting (banned=1) or let it again (banned=0); back to its profile."""
    account = authorize("comment:ban", queries.find_account(user_id))
    banned = _yes_or_no("banned", gettext("Say whether to ban: banned=1 or banned=0."))
    services.set_banned(account, banned)
    name = account["username"]
    if banned:
        flash(gettext("%(name)s may no longer comment.", name=name))
    else:
        flash(gettext("%(name)s may comment again.", name=name))
    return redirect(url_for("users.profile", username=name), code=303)


def _yes_or_no(field: str, explanation: str) -> bool:
    """A form's switch: True for "1", False for "0", else a 400 that explains it."""
    choice = request.form.get(field, "")
    if choice not in ("0", "1"):
        abort(400, description=explanation)
    return choice == "1"
