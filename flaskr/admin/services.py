"""The admin area's rules: what an admin may do to accounts, and what the dashboard shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext, lazy_gettext

from flaskr.admin import queries
from flaskr.auth import queries as auth_queries
from flaskr.auth import services as accounts
from flaskr.blog import services as blog_services
from flaskr.db import transaction, utcnow
from flaskr.media import services as media_services
from flaskr.paging import Page, make_page
from flaskr.policy import PUBLISHED, ROLES, can, post_state
from flaskr.security import BURST_LONGEST
from flaskr.validation import ValidationError

#: The audit log's kinds of entry (security.STORED_EVENTS) as the page names them, in
#: the order its filter lists them: what admins did first.
AUDIT_EVENTS = {
    "role-changed": lazy_gettext("Role changed"),
    "user-disabled": lazy_gettext("Account disabled"),
    "user-enabled": lazy_gettext("Account enabled"),
    "user-created": lazy_gettext("Account created on the command line"),
    "password-reset": lazy_gettext("Password reset"),
    "password-changed": lazy_gettext("Password changed"),
    "account-deleted": lazy_gettext("Account deleted"),
    "login-failed": lazy_gettext("Failed login"),
    "post-unpublished": lazy_gettext("Post unpublished"),
    "invite-created": lazy_gettext("Invitation made"),
    "invite-revoked": lazy_gettext("Invitation withdrawn"),
    "user-deleted": lazy_gettext("Account deleted by an admin"),
    "settings-changed": lazy_gettext("Site settings changed"),
    "email-changed": lazy_gettext("Email address changed"),
    "2fa-enabled": lazy_gettext("Two-factor login turned on"),
    "2fa-disabled": lazy_gettext("Two-factor login turned off"),
    "2fa-codes-renewed": lazy_gettext("New recovery codes"),
    "mail-retried": lazy_gettext("Failed mail sent again"),
    "comment-ban": lazy_gettext("Stopped from commenting"),
    "comment-unban": lazy_gettext("Allowed to comment again"),
}


#: The states posts are counted and filtered by (policy.post_state()'s).
POST_STATES = ("published", "scheduled", "draft")


@dataclass
class Dashboard:
    """What the admin area's first page counts."""

    users_by_role: dict[str, int]
    disabled_users: int
    posts_by_state: dict[str, int]
    newest_users: list[Any]
    failed_logins_today: int


def dashboard() -> Dashboard:
    """Counts of accounts and posts, the newest accounts, and failed logins in the last day."""
    now = utcnow()
    by_role = queries.count_users_by_role()
    by_state = queries.count_posts_by_state(now)
    return Dashboard(
        users_by_role={role: by_role.get(role, 0) for role in ROLES},
        disabled_users=queries.count_disabled_users(),
        posts_by_state={state: by_state.get(state, 0) for state in POST_STATES},
        newest_users=queries.newest_users(5),
        failed_logins_today=queries.count_since(
            "login-failed", now - timedelta(days=1), longest=BURST_LONGEST
        ),
    )


def users_page(starts_with: str, number: int, per_page: int) -> Page:
    """A page of accounts, by username."""
    rows = queries.list_users(starts_with, page=number, per_page=per_page)
    return make_page(rows, number, per_page)


def audit_page(event: str | None, number: int, per_page: int) -> Page:
    """A page of the audit log, newest first."""
    rows = queries.list_audit(event, page=number, per_page=per_page)
    return make_page(rows, number, per_page)


def find_user(user_id: int) -> Any:
    """An account as the admin area shows it, or None."""
    return queries.find_user(user_id)


def _target(admin_id: int, user_id: int) -> Any:
    """The account an admin acts on; never their own (an admin who demoted or disabled
    themselves could leave the site without one)."""
    target = queries.find_user(user_id)
    if target is None:
        raise LookupError(user_id)
    if target["id"] == admin_id:
        raise ValidationError(
            gettext("You cannot change your own account here: ask another administrator.")
        )
    return target


def change_role(admin_id: int, user_id: int, role: str) -> tuple[Any, bool]:
    """Give another account a role; (the account as it was, whether anything changed)."""
    if role not in ROLES:
        raise ValidationError(gettext("Choose a role from the list."))
    target = _target(admin_id, user_id)
    if target["role"] == role:
        return target, False
    accounts.set_role(target["id"], role)
    return target, True


def set_disabled(admin_id: int, user_id: int, disabled: bool) -> tuple[Any, bool]:
    """Disable another account (ending its sessions at once) or enable it again;
    (the account as it was, whether anything changed)."""
    target = _target(admin_id, user_id)
    if bool(target["disabled"]) == disabled:
        return target, False
    if disabled:
        accounts.disable_user(target["id"])
    else:
        accounts.enable_user(target["id"])
    return target, True


def posts_page(
    *, author: str | None, state: str | None, tag: str | None, number: int, per_page: int
) -> Page:
    """A page of posts in every state, newest first; an unknown author or tag finds none."""
    author_id = tag_id = None
    if author is not None:
        found = auth_queries.find_user_by_name(author)
        if found is None:
            return make_page([], number, per_page)
        author_id = found["id"]
    if tag is not None:
        tag_id = queries.find_tag_id(tag)
        if tag_id is None:
            return make_page([], number, per_page)
    rows = queries.list_posts(
        author_id=author_id,
        state=state,
        tag_id=tag_id,
        now=utcnow(),
        page=number,
        per_page=per_page,
    )
    return make_page([{**row, "state": post_state(row)} for row in rows], number, per_page)


def unpublish(post: Any, by: int) -> bool:
    """Make a published or scheduled post a draft again (a new version in its history,
    its text untouched); False if it was a draft already."""
    if post["status"] != PUBLISHED:
        return False
    blog_services.revise_post(
        post["id"],
        blog_services.draft_of(post, status="draft"),
        base_version=post["version"],
        by=by,
    )
    return True


#: What may happen to a deleted account's posts; the first is the page's default.
POSTS_ON_DELETE = ("reassign", "delete")


def delete_user(admin_id: int, user_id: int, posts: str, heir_name: str) -> tuple[Any, Any]:
    """Delete another account, its sessions with it; its posts (and trash) go to the
    account named `heir_name` or are deleted. (The account, the heir or None.)"""
    target = _target(admin_id, user_id)
    if posts not in POSTS_ON_DELETE:
        raise ValidationError(gettext("Choose what happens to their posts."))
    heir = None
    if posts == "reassign":
        heir = accounts.find_account(heir_name.strip())
        if heir is None or heir["id"] == target["id"] or heir["disabled"]:
            raise ValidationError(
                gettext("Name an enabled account, other than this one, to give the posts to.")
            )
        if not can(heir, "post:create"):
            raise ValidationError(
                gettext(
                    "%(name)s may not write posts: give them to an author.", name=heir["username"]
                )
            )
    with transaction():
        files = []
        if heir is not None:
            queries.reassign_posts(target["id"], heir["id"])
            media_services.give_pictures(target["id"], heir["id"])  # the posts show them
        else:
            files = media_services.owner_files(target["id"])
        auth_queries.delete_user(target["id"])
    media_services.remove_files(files)
    return target, heir


def posts_of(user_id: int) -> int:
    """How many posts an account has, its trash included."""
    return queries.count_posts_of(user_id)
