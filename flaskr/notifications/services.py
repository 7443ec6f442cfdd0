"""Emails about comments: a reply to yours, a comment on your post, one waiting for you.

Each is queued in the outbox in the transaction of the comment that causes it
(so it is sent if and only if the comment was saved), only to a confirmed
address, in the recipient's language, never to the commenter themselves, and
with a one-click unsubscribe address (RFC 8058) that stops that kind of email
and no other, without logging in. Nothing is sent about a held comment but the
moderators' "waiting for approval": its reply and post emails go when it is
approved (comment.announced says they went).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext
from itsdangerous import BadSignature, URLSafeSerializer

from flaskr.db import utcnow
from flaskr.mail.services import queue_message
from flaskr.notifications import queries
from flaskr.policy import Record, can

#: Each kind of email, as the account page and the unsubscribe page name it.
KINDS = {
    "comment-reply": lazy_gettext("Someone replies to my comment"),
    "comment-on-post": lazy_gettext("Someone comments on my post"),
    "comment-queue": lazy_gettext("A comment waits for my approval"),
}
#: Who gets the "waiting for approval" email besides the post's author: those who
#: moderate every post.
STAFF = ("editor", "admin")
_SALT = "flaskr.unsubscribe"
#: Characters of a comment's text an email quotes.
QUOTE = 1000


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_url(user_id: int, kind: str) -> str:
    """The address that stops `kind` of email to the account: signed, so it names one
    account and one kind, and works for as long as the site's key stays the same."""
    token = _signer().dumps([user_id, kind])
    return url_for("notifications.unsubscribe", token=token, _external=True)


def read_token(token: str) -> tuple[Record, str] | None:
    """The account and kind an unsubscribe token names, or None for a token that is not
    ours, names another kind, or an account that is gone."""
    try:
        user_id, kind = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if kind not in KINDS or not isinstance(user_id, int):
        return None
    account = queries.find_recipient(user_id)
    return None if account is None else (account, kind)


def turn_off(user_id: int, kind: str) -> None:
    """Stop `kind` of email to the account."""
    queries.turn_off(user_id, kind, utcnow())


def settings(user_id: int) -> dict[str, bool]:
    """Each kind of email, and whether the account gets it."""
    off = queries.turned_off(user_id)
    return {kind: kind not in off for kind in KINDS}


def offered(account: Record) -> set[str]:
    """The kinds of email the account page offers the account: the queue's to those who
    have a queue."""
    return {kind for kind in KINDS if kind != "comment-queue" or can(account, "comments:queue")}


def save_settings(user_id: int, wanted: set[str], shown: set[str]) -> None:
    """Of the kinds of email in `shown`, send the account those in `wanted`, not the others."""
    now = utcnow()
    for kind in shown:
        if kind in wanted:
            queries.turn_on(user_id, kind)
        else:
            queries.turn_off(user_id, kind, now)


def comment_published(comment: Record, post: Record, commenter: Record) -> None:
    """Mail the parent comment's author (a reply) and the post's author about a comment
    readers now see. Each person gets one email, the reply one first; the commenter none.
    Runs in the caller's transaction."""
    sent = {commenter["id"]}
    parent_author = comment.get("parent_author_id")
    if parent_author is not None and parent_author not in sent:
        sent |= _send(comment, post, commenter, "comment-reply", [parent_author])
    if post["author_id"] not in sent:
        _send(comment, post, commenter, "comment-on-post", [post["author_id"]])


def comment_held(comment: Record, post: Record, commenter: Record) -> None:
    """Mail those who moderate the post that a comment waits for their approval."""
    _send(comment, post, commenter, "comment-queue", [post["author_id"]], roles=STAFF)


def _send(
    comment: Record,
    post: Record,
    commenter: Record,
    kind: str,
    ids: list[int],
    roles: tuple[str, ...] = (),
) -> set[int]:
    """Queue `kind` of email about the comment to those accounts that get it; their ids."""
    people = [
        p for p in queries.recipients(kind, ids=ids, roles=roles) if p["id"] != commenter["id"]
    ]
    if not people:
        return set()
    context: dict[str, Any] = {
        "name": commenter["username"],
        "title": post["title"],
        "text": _quote(comment["body"]),
        "link": url_for("comments.permalink", comment_id=comment["id"], _external=True),
        "queue_link": url_for("comments.queue", _external=True),
        "settings_link": url_for("auth.account", _external=True) + "#notifications",
    }
    for person in people:
        queue_message(
            person["email"],
            kind,
            kind.replace("-", "_"),
            language=person["language"],
            unsubscribe=unsubscribe_url(person["id"], kind),
            **context,
        )
    return {p["id"] for p in people}


def _quote(text: str) -> str:
    """The comment's text as an email quotes it: its Markdown, cut at QUOTE characters."""
    return text if len(text) <= QUOTE else text[:QUOTE].rstrip() + " …"
