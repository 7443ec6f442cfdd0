"""The admin area (`/admin/`): the dashboard, accounts, the audit log. Admins only."""

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

from flaskr.admin import services
from flaskr.auth.views import login_required
from flaskr.blog import queries as blog_queries
from flaskr.invites import services as invite_services
from flaskr.mail import services as mail_services
from flaskr.paging import existing, page_number
from flaskr.policy import ROLES, authorize, require, role_name
from flaskr.ratelimit import config_value, limit, signed_in_user, signed_out
from flaskr.security import audit
from flaskr.settings import services as site_settings
from flaskr.validation import ValidationError

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Every admin action counts against the admin's own budget.
admin_limit = limit(
    config_value("RATELIMIT_ADMIN"),
    methods=["POST"],
    key_func=signed_in_user,
    exempt_when=signed_out,
)


#: Audit log entries the dashboard shows.
RECENT_AUDIT = 8

#: The pages editors may open too (every other page here is for admins).
_EDITORS_TOO = frozenset({"admin.posts", "admin.unpublish"})


@bp.before_request
def admins_only() -> None:
    """Admins only, but for the posts pages, which editors may use too (visitors are
    sent to log in by each view first)."""
    if g.get("user") is not None:
        require("posts:manage" if request.endpoint in _EDITORS_TOO else "site:manage")


@bp.route("/")
@login_required
def dashboard():
    """Counts of accounts and posts, the newest accounts, failed logins today."""
    return render_template(
        "admin/dashboard.html",
        board=services.dashboard(),
        roles=ROLES,
        recent=services.audit_page(None, 1, RECENT_AUDIT).items,
        events=services.AUDIT_EVENTS,
    )


@bp.route("/users")
@login_required
def users():
    """Every account by username, paged; search by the start of the name."""
    starts_with = request.args.get("q", "")[:150].strip()
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    page = existing(services.users_page(starts_with, page_number(), per_page))
    return render_template("admin/users.html", page=page, q=starts_with, roles=ROLES)


def _kept(*names: str) -> dict[str, Any]:
    """The list's filters and page, as its form carried them along: back to the list as the
    admin left it."""
    return {name: value for name in names if (value := request.form.get(name, "")[:150])}


def _back_to_users():  # noqa: ANN202 - a response
    return redirect(url_for("admin.users", **_kept("q", "page")))


def _refused(error: ValidationError):  # noqa: ANN202 - a response
    # The list again, with what was wrong, as a 400.
    flash(str(error))
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    page = services.users_page("", 1, per_page)
    return render_template("admin/users.html", page=page, q="", roles=ROLES), 400


@bp.route("/users/<int:user_id>/role", methods=("POST",))
@login_required
@admin_limit
def change_role(user_id: int):
    """Give an account another role."""
    role = request.form.get("role", "")
    try:
        target, changed = services.change_role(g.user["id"], user_id, role)
    except LookupError:
        abort(404)
    except ValidationError as error:
        return _refused(error)
    if changed:
        audit("role-changed", target_id=target["id"], old=target["role"], new=role)
        flash(gettext("%(name)s is now %(role)s.", name=target["username"], role=role_name(role)))
    return _back_to_users()


@bp.route("/users/<int:user_id>/disable", methods=("POST",))
@login_required
@admin_limit
def disable(user_id: int):
    """Disable an account: it is signed out everywhere at once and cannot sign in."""
    return _set_disabled(user_id, True)


@bp.route("/users/<int:user_id>/enable", methods=("POST",))
@login_required
@admin_limit
def enable(user_id: int):
    """Let a disabled account sign in again."""
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool):  # noqa: ANN202 - a response
    try:
        target, changed = services.set_disabled(g.user["id"], user_id, disabled)
    except LookupError:
        abort(404)
    except ValidationError as error:
        return _refused(error)
    if changed:
        name = target["username"]
        if disabled:
            audit("user-disabled", target_id=target["id"])
            flash(gettext("%(name)s is disabled and was signed out everywhere.", name=name))
        else:
            audit("user-enabled", target_id=target["id"])
            flash(gettext("%(name)s can sign in again.", name=name))
    return _back_to_users()


@bp.route("/audit")
@login_required
def audit_log():
    """What was done to accounts, by whom, from where: newest first, by kind of event."""
    event = request.args.get("event", "")
    if event and event not in services.AUDIT_EVENTS:
        abort(404)
    per_page = current_app.config["POSTS_PER_PAGE"] * 5
    page = existing(services.audit_page(event or None, page_number(), per_page))
    return render_template("admin/audit.html", page=page, event=event, events=services.AUDIT_EVENTS)


@bp.route("/outbox")
@login_required
def outbox():
    """The mail flaskr sent or will send: newest first, by state; failed ones can be
    sent again."""
    status = request.args.get("status", "")
    if status and status not in mail_services.STATUSES:
        abort(404)
    per_page = current_app.config["POSTS_PER_PAGE"] * 5
    page = existing(mail_services.outbox_page(status or None, page_number(), per_page))
    return render_template(
        "admin/outbox.html",
        page=page,
        status=status,
        statuses=mail_services.STATUSES,
        kinds=mail_services.KINDS,
        smtp=bool(current_app.config["MAIL_SMTP_HOST"]),
    )


@bp.route("/outbox/<int:message_id>/retry", methods=("POST",))
@login_required
@admin_limit
def retry_mail(message_id: int):
    """Queue a failed message again."""
    try:
        mail_services.retry(message_id)
    except ValidationError as error:
        flash(str(error))
    else:
        audit("mail-retried", message_id=message_id)
        flash(gettext("The message will be sent again."))
    return redirect(url_for("admin.outbox", status="failed"))


@bp.route("/posts")
@login_required
def posts():
    """Every post in every state, newest first; by author, state or tag."""
    author = request.args.get("author", "")[:150].strip()
    state = request.args.get("state", "")
    tag = request.args.get("tag", "")[:40].strip().lower()
    if state and state not in services.POST_STATES:
        abort(404)
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    page = existing(
        services.posts_page(
            author=author or None,
            state=state or None,
            tag=tag or None,
            number=page_number(),
            per_page=per_page,
        )
    )
    return render_template(
        "admin/posts.html",
        page=page,
        author=author,
        state=state,
        tag=tag,
        states=services.POST_STATES,
    )


@bp.route("/posts/<int:post_id>/unpublish", methods=("POST",))
@login_required
@admin_limit
def unpublish(post_id: int):
    """Take a published or scheduled post off the blog: it becomes a draft again."""
    post = authorize("post:update", blog_queries.find_post(post_id))
    if services.unpublish(post, by=g.user["id"]):
        audit("post-unpublished", post_id=post_id, author_id=post["author_id"])
        flash(gettext('"%(title)s" is a draft again.', title=post["title"]))
    return redirect(url_for("admin.posts", **_kept("author", "state", "tag", "page")))


@bp.route("/invites", methods=("GET", "POST"))
@login_required
@admin_limit
def invites():
    """Invitations: make one (its link is shown once), see each one's state, withdraw."""
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    invite_link = None
    status = 200
    if request.method == "POST":
        try:
            token = invite_services.create(
                g.user["id"], request.form.get("role", ""), request.form.get("days", "")
            )
        except ValidationError as error:
            flash(str(error))
            status = 400
        else:
            audit("invite-created", role=request.form.get("role") or None)
            invite_link = url_for("auth.register", invite=token, _external=True)
    page = existing(invite_services.page(page_number(), per_page))
    return render_template(
        "admin/invites.html",
        page=page,
        roles=ROLES,
        invite_link=invite_link,
        max_days=invite_services.MAX_DAYS,
    ), status


@bp.route("/invites/<int:invite_id>/revoke", methods=("POST",))
@login_required
@admin_limit
def revoke_invite(invite_id: int):
    """Withdraw an invitation nobody has used yet."""
    if invite_services.revoke(invite_id):
        audit("invite-revoked", invite_id=invite_id)
        flash(gettext("The invitation was withdrawn: its link no longer works."))
    return redirect(url_for("admin.invites"))


@bp.route("/users/<int:user_id>/delete", methods=("GET", "POST"))
@login_required
@admin_limit
def delete_user(user_id: int):
    """Delete an account: a page that asks what happens to its posts, then does it."""
    account = services.find_user(user_id)
    if account is None:
        abort(404)
    status = 200
    if request.method == "POST":
        posts = request.form.get("posts", "")
        try:
            target, heir = services.delete_user(
                g.user["id"], user_id, posts, request.form.get("heir", "")[:150]
            )
        except ValidationError as error:
            flash(str(error))
            status = 400
        else:
            audit(
                "user-deleted",
                target_id=target["id"],
                username=target["username"],
                posts_to=heir["id"] if heir else "deleted",
            )
            if heir is not None:
                message = gettext(
                    "%(name)s is deleted; their posts now belong to %(heir)s.",
                    name=target["username"],
                    heir=heir["username"],
                )
            else:
                message = gettext("%(name)s and their posts are deleted.", name=target["username"])
            flash(message)
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/delete_user.html",
        account=account,
        posts=services.posts_of(user_id),
        choice=request.form.get("posts", services.POSTS_ON_DELETE[0]),
        heir=request.form.get("heir", g.user["username"]),
    ), status


@bp.route("/settings", methods=("GET", "POST"))
@login_required
@admin_limit
def settings():
    """The site's name, description, language, time zone, registration, new accounts'
    role, two-factor login and comment rules; those the server's configuration sets are
    shown, not editable."""
    status = 200
    if request.method == "POST":
        try:
            changed = site_settings.save(request.form.to_dict(), g.user["id"])
        except ValidationError as error:
            flash(str(error))
            status = 400
        else:
            if changed:
                audit("settings-changed", names=",".join(changed))
                flash(gettext("Settings saved."))
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", settings=site_settings.current()), status
