"""The rules of comments: writing, editing and deleting them, a post's thread, moderation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext, lazy_gettext

from flaskr import markup
from flaskr.blog import queries as blog_queries
from flaskr.comments import queries, screening
from flaskr.comments.tables import COMMENT_MAX
from flaskr.db import transaction, utcnow
from flaskr.i18n.languages import ngettext
from flaskr.notifications import services as notifications
from flaskr.paging import Page, make_page
from flaskr.policy import Record, can
from flaskr.security import audit
from flaskr.validation import ValidationError, require_text

#: What a moderator may do to a comment, and the status each leaves it in
#: (reject removes it, as its author's delete would).
MODERATION = {"approve": "published", "unhide": "published", "hide": "hidden", "spam": "spam"}
ACTIONS = (*MODERATION, "reject")


@dataclass
class Group:
    """One thread as a page shows it: its first comment (None when the thread began on
    an earlier page) and the replies on this page."""

    thread_id: int
    top: dict[str, Any] | None
    replies: list[dict[str, Any]] = field(default_factory=list)
    #: Whether the viewer may answer in this thread (its first comment is published).
    open: bool = False


@dataclass
class Thread:
    """The comments one page of a post shows, thread by thread."""

    page: Page
    count: int
    moderator: bool
    groups: list[Group] = field(default_factory=list)


def thread(post: Record, viewer: Record | None, number: int) -> Thread:
    """Page `number` of the post's comments as `viewer` (None: a visitor) sees them.

    A page holds COMMENTS_PER_PAGE comments, replies counted: a comment with a
    thousand replies pages like a thousand comments. A post read with
    `has_comments` False (no comment in any state: queries.any_column) has an
    empty thread for everyone, known without asking the database.
    """
    moderator = can(viewer, "comment:moderate", post)
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    rows = (
        queries.thread_page(post["id"], viewer, moderator, page=number, per_page=per_page)
        if post.get("has_comments", True)
        else []
    )
    page = make_page(list(rows), number, per_page)  # dicts already (db.prepared)
    groups: list[Group] = []
    for row in page.items:
        if row["parent_id"] is None:
            groups.append(Group(row["id"], row, open=row["status"] == "published"))
        elif groups and groups[-1].thread_id == row["parent_id"]:
            groups[-1].replies.append(row)
        else:  # the thread began on an earlier page
            group = Group(row["parent_id"], None, [row], open=row["parent_status"] == "published")
            groups.append(group)
    return Thread(page, post.get("comment_count") or 0, moderator, groups)


def page_of(comment: Record, viewer: Record | None, moderator: bool) -> int:
    """The page of its post's comments a comment is on."""
    before = queries.seen_before(comment, viewer, moderator)
    return before // current_app.config["COMMENTS_PER_PAGE"] + 1


def rendered(body: str) -> tuple[str, str]:
    """The text as stored, and its HTML; ValidationError for an empty or too long text."""
    text = require_text(body, gettext("Comment"), max_len=COMMENT_MAX, multiline=True).strip()
    return text, markup.render_comment(text)


@dataclass
class NewComment:
    """What the comment form sent (a guest's also sends a name and an address)."""

    body: str
    parent_id: str = ""
    stamp: str = ""
    honeypot: str = ""
    name: str = ""
    email: str = ""


def post_comment(post: Record, author: Record, form: NewComment) -> Record:
    """Add the author's comment (or reply) to the post; return it (its id and status).

    Raises ValidationError when the text is not one to save or the form is a
    bot's (screening.refusal). A comment a screening rule holds is saved as
    `held`: the commenter and the post's moderators see it, nobody else.
    """
    body, body_html = rendered(form.body)
    parent = replied_to(post, form.parent_id)
    parent_id = None if parent is None else int(parent["id"])
    with transaction():
        screening.refusal(post["id"], form.stamp, form.honeypot, author["id"], body)
        moderator = can(author, "comment:moderate", post)
        reason = screening.hold_reason(author, moderator, body, body_html)
        values = {
            "post_id": post["id"],
            "author_id": author["id"],
            "parent_id": parent_id,
            "body": body,
            "body_html": body_html,
            "status": "held" if reason else "published",
            "held_reason": reason,
            "created_at": utcnow(),
            # A held comment is announced to the post's and parent's authors when approved.
            "announced": not reason,
        }
        values["id"] = queries.insert(**values)
        values["thread_id"] = parent_id or values["id"]
        about = {**values, "parent_author_id": parent and parent["author_id"]}
        if reason:
            notifications.comment_held(about, post, author)
        else:
            notifications.comment_published(about, post, author)
    return values


def replied_to(post: Record, raw: str) -> Record | None:
    """The comment a reply answers: a top-level comment readers see, under this post."""
    if not raw:
        return None
    # An id column holds at most 2**31 - 1: longer digit strings name no comment (and
    # int() refuses strings of over 4,300 digits).
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
    parent = queries.find_comment(number) if 0 < number < 2**31 else None
    if (
        parent is None
        or parent["post_id"] != post["id"]
        or parent["parent_id"] is not None
        or parent["status"] != "published"
    ):
        raise ValidationError(
            gettext("The comment you are replying to is gone. Reload the page to see the thread.")
        )
    return parent


def edit_comment(comment: Record, author: Record, body: str) -> str:
    """Save the author's new text; return the comment's status after it.

    An approved comment edited to say what would have held it is held again:
    an edit must not slip past the rules a new comment meets.
    """
    text, html = rendered(body)
    reason = None
    post = {"id": comment["post_id"], "author_id": comment["post_author_id"]}
    if comment["status"] == "published" and not can(author, "comment:moderate", post):
        reason = screening.content_hold(text, html)
    changes: dict[str, Any] = {"body": text, "body_html": html, "edited_at": utcnow()}
    if reason:
        changes.update(status="held", held_reason=reason)
    with transaction():
        queries.update([comment["id"]], **changes)
    return "held" if reason else str(comment["status"])


def delete_comment(comment: Record) -> None:
    """Remove a comment; one that replies hang under leaves "[deleted]" so the thread holds."""
    with transaction():
        _remove(comment)


def _remove(comment: Record) -> None:
    if queries.has_replies(comment["id"]):
        # Nothing of what was said, nor who said it, stays.
        queries.update(
            [comment["id"]],
            status="deleted",
            body="",
            body_html="",
            author_id=None,
            held_reason=None,
        )
        return
    queries.delete([comment["id"]])
    parent_id = comment["parent_id"]
    if parent_id is not None:
        parent = queries.find_comment(parent_id)
        if (
            parent is not None
            and parent["status"] == "deleted"
            and not queries.has_replies(parent_id)
        ):
            queries.delete([parent_id])  # "[deleted]" with nothing left under it


def moderate(comments: list[Record], action: str, moderator_id: int) -> int:
    """Approve, unhide, hide, reject or mark as spam each comment; return how many changed.

    The caller has checked comment:moderate for each one. Every change is audited.
    """
    if action not in ACTIONS:
        raise ValidationError(gettext("Choose approve, reject, hide, unhide or spam."))
    changed = 0
    posts: dict[int, Record | None] = {}  # a bulk approval mostly concerns one post
    with transaction():
        for comment in comments:
            if comment["status"] == "deleted":
                continue
            if action == "reject":
                _remove(comment)
            elif comment["status"] != MODERATION[action]:
                queries.update([comment["id"]], status=MODERATION[action], held_reason=None)
                if MODERATION[action] == "published" and not comment["announced"]:
                    announce(comment, posts)
            else:
                continue
            changed += 1
            audit("comment-moderated", action=action, comment_id=comment["id"], by=moderator_id)
    return changed


def announce(comment: Record, posts: dict[int, Record | None] | None = None) -> None:
    """Mail the post's and parent's authors about a comment readers see at last (once).
    `posts`: posts already looked up, by id (filled in here)."""
    posts = {} if posts is None else posts
    if comment["post_id"] not in posts:
        posts[comment["post_id"]] = blog_queries.find_post(comment["post_id"])
    post = posts[comment["post_id"]]
    queries.update([comment["id"]], announced=True)
    # username: the account's, or the name a guest wrote under (None: "[deleted]").
    if post is not None and comment["username"] is not None:
        commenter = {"id": comment["author_id"], "username": comment["username"]}
        notifications.comment_published(comment, post, commenter)


def count_text(count: int) -> str:
    """How pages say a post's comment count."""
    return ngettext("%(num)d comment", "%(num)d comments", count)


def set_open(post_id: int, is_open: bool) -> None:
    """Let the post take new comments, or stop it (what is there stays)."""
    from flaskr.blog import queries as blog_queries

    with transaction():
        blog_queries.update_post(post_id, comments_closed=not is_open)


#: What the queue says of why a comment waits (screening.REASONS).
REASON_TEXT = {
    screening.FIRST: lazy_gettext("First comment"),
    screening.LINKS: lazy_gettext("Many links"),
    screening.WORDS: lazy_gettext("Banned word"),
    screening.NEW_ACCOUNT: lazy_gettext("New account"),
    screening.GUEST: lazy_gettext("First comment from this guest address"),
}


def reason_text(reason: str) -> str:
    """Why a comment waits, as the queue says it."""
    return str(REASON_TEXT.get(reason, reason))


def set_banned(account: Record, banned: bool) -> bool:
    """Stop the account commenting (banned) or let it again; False when it already was so.

    Its comments stay as they are: a moderator hides those that should go.
    """
    if bool(account["comments_banned"]) == banned:
        return False
    with transaction():
        queries.set_banned(account["id"], banned)
        event = "comment-ban" if banned else "comment-unban"
        audit(event, target_id=account["id"])  # by the signed-in moderator
    return True
