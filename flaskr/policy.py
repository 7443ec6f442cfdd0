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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, g, request

from flaskr.db import utcnow
from flaskr.security import audit

#: The status a post must have to be read by anyone but its author.
PUBLISHED = "published"

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
        "post:delete",  # delete a post
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


def public_posts(table: sa.FromClause, now: datetime | None = None) -> sa.ColumnElement[bool]:
    """post_is_public() as an SQL condition on `table` (post, or a copy of its status columns)."""
    return sa.and_(table.c.status == PUBLISHED, table.c.published_at <= (now or utcnow()))


def post_state(post: Record, now: datetime | None = None) -> str:
    """'draft', 'scheduled' or 'published', as an author sees a post."""
    if post["status"] != PUBLISHED:
        return "draft"
    return "published" if post_is_public(post, now) else "scheduled"


# --- actions -----------------------------------------------------------------


def _owns(user: User | None, resource: Record | None) -> bool:
    return user is not None and resource is not None and resource["author_id"] == user["id"]


def can(user: User | None, action: str, resource: Record | None = None) -> bool:
    """True when `user` (None: a visitor) may do `action` to `resource`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "post:read":
        return resource is not None and (post_is_public(resource) or _owns(user, resource))
    if action == "post:create":
        return user is not None
    # post:update, post:delete: the author only (roles arrive with the admin area).
    return _owns(user, resource)


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


def init_app(app: Flask) -> None:
    """Declare Flask's own static route public, and give templates `can()`."""
    if "static" in app.view_functions:
        public(app.view_functions["static"])
    app.add_template_global(can_template, "can")
