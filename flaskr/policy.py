"""Who may do what: every permission in flaskr is decided here, and nowhere else.

Two kinds of rule live in this module:

- **Route access.** Every view declares who may reach it at all: `public`, or
  signed in (`auth.login_required` declares that). A test walks the URL map and
  fails for a route that declares nothing.
- **Actions on things.** `can(user, action, resource)` answers for one user,
  one action and (where the action concerns one) one resource. Views ask it
  through `authorize()`, templates through the `can` template global.

Who may *read* a post is the one rule with two forms: `post_is_public()` for a
row in hand and `public_posts()` for SQL. They are defined side by side and a
test holds them equal.

**Roles.** Each account has one role, and each role may do what the one
before it may, and more: a *reader* signs in and likes and comments on posts,
an *author* also writes and edits their own posts, an *editor* also edits
and deletes anyone's, an *admin* also runs the site. `can()` reads the role
and nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, g, request
from flask_babel import lazy_gettext

from flaskr.db import utcnow
from flaskr.security import audit

#: The status a post must have to be read by anyone but its author.
PUBLISHED = "published"

#: Every role, from the one that may do least to the one that may do most.
ROLES = ("reader", "author", "editor", "admin")
#: What pages call each role.
ROLE_NAMES = {
    "reader": lazy_gettext("Reader"),
    "author": lazy_gettext("Author"),
    "editor": lazy_gettext("Editor"),
    "admin": lazy_gettext("Administrator"),
}
_RANK = {role: rank for rank, role in enumerate(ROLES)}

#: Route access rules a view can declare.
PUBLIC = "public"
SIGNED_IN = "signed-in"
RULES = (PUBLIC, SIGNED_IN)

#: Every action `can()` knows; asking about another is a programming error.
ACTIONS = frozenset(
    {
        "post:read",  # see a post (its page, feeds, search): published and due, or your own
        "post:create",  # write a new post
        "post:update",  # edit a post, see and restore its history
        "post:delete",  # delete a post (into its author's trash)
        "trash:manage",  # restore or purge a post in the trash: its author's alone
        "site:manage",  # the admin area: accounts, roles, the audit log
        "posts:manage",  # the admin area's list of every post, in every state
        "media:upload",  # upload pictures (and see one's own media library)
        "media:manage",  # delete an upload: its owner's, or any for an admin
        "media:everyone",  # the media library of every account's uploads
        "post:like",  # like a post (or take the like back): anyone signed in, a post readers see
        "comment:create",  # comment on a post: anyone signed in, a post readers see, still open
        "comment:read",  # see a comment: readers' ones, one's own held ones, all for moderators
        "comment:update",  # edit a comment: its author, for COMMENTS_EDIT_MINUTES
        "comment:delete",  # delete a comment: its author, or whoever moderates its post
        "comment:moderate",  # hide, approve, reject comments on a post: its author, editors
        "comments:queue",  # the moderation queue (of the posts one moderates)
        "comment:ban",  # stop an account commenting, or let it again: editors, admins
    }
)

View = TypeVar("View", bound=Callable[..., Any])
#: A user or a resource as views hold them: a row mapping or a dict, keyed by column name.
Record = Mapping[Any, Any]
User = Record


# --- who may read a post: one rule, two forms --------------------------------


def post_is_public(post: Record, now: datetime | None = None) -> bool:
    """True when anyone may read this post: published, and its publish time has come."""
    published_at = post["published_at"]
    return (
        post["status"] == PUBLISHED
        and published_at is not None
        and published_at <= (now or utcnow())
    )


def public_posts(
    table: sa.FromClause, now: datetime | sa.ColumnElement[datetime] | None = None
) -> sa.ColumnElement[bool]:
    """post_is_public() as an SQL condition on `table` (post, or a copy of its status columns).

    `now` may be a bound parameter (statements built once take the time when they
    run) or another SQL expression (a post's own time).
    """
    return sa.and_(
        table.c.status == PUBLISHED, table.c.published_at <= (utcnow() if now is None else now)
    )


def post_state(post: Record, now: datetime | None = None) -> str:
    """'draft', 'scheduled' or 'published', as an author sees a post."""
    if post["status"] != PUBLISHED:
        return "draft"
    return "published" if post_is_public(post, now) else "scheduled"


# --- who may read a comment: one rule, two forms ------------------------------

#: What readers see of a thread: comments, and "[deleted]" where replies hang.
PUBLIC_COMMENT_STATUSES = ("published", "deleted")
#: What a commenter sees of their own comments beyond those: what waits for approval.
OWN_COMMENT_STATUSES = ("held",)
#: What moderators see on the post page (spam stays in the queue).
MODERATED_COMMENT_STATUSES = ("published", "deleted", "held", "hidden")


def comment_is_visible(comment: Record, user: User | None, moderator: bool) -> bool:
    """True when `user` (None: a visitor) sees the comment under its post; `moderator`:
    they moderate that post (can(user, "comment:moderate", post))."""
    status = comment["status"]
    if moderator:
        return status in MODERATED_COMMENT_STATUSES
    return status in PUBLIC_COMMENT_STATUSES or (
        status in OWN_COMMENT_STATUSES and _is_author(user, comment)
    )


def visible_comments(
    table: sa.FromClause, user: User | None, moderator: bool
) -> sa.ColumnElement[bool]:
    """comment_is_visible() as an SQL condition on `table` (comment)."""
    if moderator:
        return _status_in(table, MODERATED_COMMENT_STATUSES)
    seen = _status_in(table, PUBLIC_COMMENT_STATUSES)
    if user is None:
        return seen
    return sa.or_(
        seen, sa.and_(_status_in(table, OWN_COMMENT_STATUSES), table.c.author_id == user["id"])
    )


def _status_in(table: sa.FromClause, statuses: tuple[str, ...]) -> sa.ColumnElement[bool]:
    # status = 'a' OR status = 'b' rather than IN (...): the same to both databases, and
    # with no list parameter the statement compiles once (db.prepared).
    return sa.or_(*(table.c.status == status for status in statuses))


def _is_author(user: User | None, comment: Record) -> bool:
    return user is not None and comment["author_id"] == user["id"]


def comments_open(post: Record, now: datetime | None = None) -> bool:
    """True when the post takes new comments: readers see it, its author left them open,
    and it is younger than the site's COMMENTS_CLOSE_AFTER_DAYS (0: no limit)."""
    from flask import current_app

    if post["comments_closed"] or not post_is_public(post, now):
        return False
    days = current_app.config["COMMENTS_CLOSE_AFTER_DAYS"]
    return not days or post["published_at"] + timedelta(days=days) > (now or utcnow())


def _comment_editable(user: User | None, comment: Record) -> bool:
    from flask import current_app

    minutes = current_app.config["COMMENTS_EDIT_MINUTES"]
    return (
        _is_author(user, comment)
        and not _banned(user)
        and comment["status"] in ("published", "held")
        and comment["created_at"] + timedelta(minutes=minutes) > utcnow()
    )


def _guests_welcome() -> bool:
    from flask import current_app

    return bool(current_app.config["COMMENTS_GUESTS"])


def _banned(user: User | None) -> bool:
    # An account an editor or admin banned writes no comment and edits none it wrote
    # (it may still delete its own).
    return user is not None and bool(user.get("comments_banned"))


def _moderates(user: User | None, post_author_id: int | None) -> bool:
    # The post's author moderates its comments whatever their role, as they keep
    # the say over the post itself; editors and admins moderate every post's.
    return user is not None and (user["id"] == post_author_id or is_at_least(user, "editor"))


# --- actions -----------------------------------------------------------------


def check_role(role: str) -> str:
    """The role, if it is one (else ValueError)."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def is_at_least(user: User | None, role: str) -> bool:
    """True when the user's role is `role` or one that may do more."""
    # An unknown role (a row edited by hand) may do nothing a reader may not.
    return user is not None and _RANK.get(user["role"], 0) >= _RANK[role]


def _owns(user: User | None, resource: Record | None) -> bool:
    return user is not None and resource is not None and resource["author_id"] == user["id"]


def can(user: User | None, action: str, resource: Record | None = None) -> bool:
    """True when `user` (None: a visitor) may do `action` to `resource`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "post:read":
        # Editors see drafts too: they edit them.
        return resource is not None and (
            post_is_public(resource) or _owns(user, resource) or is_at_least(user, "editor")
        )
    if action == "post:like":
        # Only what every reader sees: a draft or a scheduled post has no readers yet.
        return user is not None and resource is not None and post_is_public(resource)
    if action.startswith("comment"):
        return _can_comment(user, action, resource)
    if action == "post:create":
        return is_at_least(user, "author")
    if action == "site:manage":
        return is_at_least(user, "admin")
    if action == "posts:manage":
        return is_at_least(user, "editor")
    if action == "media:upload":
        return is_at_least(user, "author")
    if action == "media:everyone":
        return is_at_least(user, "admin")
    if action == "media:manage":
        # An owner keeps the say over their pictures whatever their role (as with posts).
        return (
            user is not None
            and resource is not None
            and (resource["owner_id"] == user["id"] or is_at_least(user, "admin"))
        )
    if action == "post:update":
        # A reader (say, a demoted author) keeps their posts but no longer writes.
        return (is_at_least(user, "author") and _owns(user, resource)) or (
            resource is not None and is_at_least(user, "editor")
        )
    if action == "post:delete":
        # Their own posts stay theirs to delete, whatever their role.
        return _owns(user, resource) or (resource is not None and is_at_least(user, "editor"))
    # trash:manage: what someone deleted is theirs alone to restore or purge (an
    # editor's deletion lands in the author's trash, for the author to decide).
    return _owns(user, resource)


def _can_comment(user: User | None, action: str, resource: Record | None) -> bool:
    """Comment actions. The resource of comment:create and comment:moderate is the
    post; of the others, the comment with its post's author_id as post_author_id
    (and, for comment:read, its parent's status and author as parent_status and
    parent_author_id)."""
    if action == "comments:queue":
        return is_at_least(user, "author")
    if resource is None:
        return False
    if action == "comment:ban":
        # The resource is the account. Never one's own, nor one whose role may do as
        # much as one's own (an editor does not silence another editor or an admin).
        return (
            is_at_least(user, "editor")
            and user is not None
            and resource["id"] != user["id"]
            and _RANK.get(resource["role"], 0) < _RANK[user["role"]]
        )
    if action == "comment:create":
        # A visitor too, where the site takes guests' comments (COMMENTS_GUESTS).
        may = not _banned(user) if user is not None else _guests_welcome()
        return may and comments_open(resource)
    if action == "comment:moderate":
        return _moderates(user, resource["author_id"])
    moderator = _moderates(user, resource["post_author_id"])
    if action == "comment:read":
        # A reply is seen where its thread is: under a comment the user sees.
        parent = resource["parent_id"] and {
            "status": resource["parent_status"],
            "author_id": resource["parent_author_id"],
        }
        return comment_is_visible(resource, user, moderator) and (
            not parent or comment_is_visible(parent, user, moderator)
        )
    if action == "comment:update":
        return _comment_editable(user, resource)
    # comment:delete: the author's own (not one already removed), or a moderator's call.
    return resource["status"] != "deleted" and (_is_author(user, resource) or moderator)


def authorize(action: str, resource: Record | None, *, hide: bool = False) -> Any:
    """The resource if the signed-in user may do `action` to it; else 404, or 403.

    404 when it does not exist, or when `hide` is set (a draft's page must not
    reveal that the draft exists); 403 otherwise. Views call this, services never.
    """
    if resource is None:
        abort(404)
    if not can(g.get("user"), action, resource):
        if hide:
            abort(404)
        kind = action.split(":")[0]
        audit("forbidden", action=action, path=request.path, **{f"{kind}_id": resource.get("id")})
        abort(403)
    return resource


def require(action: str) -> None:
    """403 unless the signed-in user may do `action` (one that concerns no single resource)."""
    if not can(g.get("user"), action):
        audit("forbidden", action=action, path=request.path)
        abort(403)


def can_template(action: str, resource: Record | None = None) -> bool:
    """`can(...)` for the signed-in user, as templates ask it."""
    return can(g.get("user"), action, resource)


# --- route access ------------------------------------------------------------


def declare(rule: str) -> Callable[[View], View]:
    """Record who may reach a view at all (checked for every route by the test suite)."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def mark(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return mark


#: Decorator for views anyone may reach.
public = declare(PUBLIC)


def access_rule(view: Callable[..., Any]) -> str | None:
    """The access rule a view declared, or None."""
    return getattr(view, "access_rule", None)


#: TWO_FACTOR: whether a second factor at sign-in is each user's choice (optional) or
#: required of editors and admins (staff).
TWO_FACTOR_MODES = ("optional", "staff")


def second_factor_required(user: User | None, mode: str) -> bool:
    """True when the site's TWO_FACTOR mode requires this user to sign in with a code."""
    return mode == "staff" and is_at_least(user, "editor")


#: Roles a site may give every new account: what strangers may become by registering.
DEFAULT_ROLES = ("reader", "author")


def init_app(app: Flask) -> None:
    """Check the default role; declare Flask's own static route public; give templates `can()`."""
    from flaskr.config import ConfigError

    if app.config["DEFAULT_ROLE"] not in DEFAULT_ROLES:
        raise ConfigError(
            f"DEFAULT_ROLE must be one of {', '.join(DEFAULT_ROLES)}, "
            f"not {app.config['DEFAULT_ROLE']!r}: editors and admins are made, not registered."
        )
    if app.config["TWO_FACTOR"] not in TWO_FACTOR_MODES:
        raise ConfigError(
            f"TWO_FACTOR must be one of {', '.join(TWO_FACTOR_MODES)}, "
            f"not {app.config['TWO_FACTOR']!r}."
        )
    if "static" in app.view_functions:
        public(app.view_functions["static"])
    app.add_template_global(can_template, "can")
    app.add_template_global(role_name, "role_name")


def role_name(role: str) -> str:
    """A role as pages name it, in the reader's language (an unknown one as stored)."""
    return str(ROLE_NAMES.get(role, role))
