"""Anti-spam without a third party: what refuses a comment outright, and what holds
it for a moderator.

Refused (the commenter is told why and keeps their text): a filled honeypot
field, a form sent sooner than a person writes (a signed timestamp in the
form), a form too old or tampered with, the same text twice within a window.
Held (shown to the commenter and the moderators only, until approved): an
account's first comment, too many links, a banned word, a young account.
The rate limits on the view (per account and per address) come first.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadData, URLSafeSerializer

from flaskr.comments import queries
from flaskr.db import utcnow
from flaskr.policy import Record
from flaskr.validation import ValidationError

#: The form's honeypot: hidden from people (and screen readers), filled by bots.
HONEYPOT = "website"
#: A form older than this is refused as expired (its page has surely changed).
STAMP_MAX_AGE = 2 * 24 * 3600

#: Why a comment was held (comment.held_reason), as the queue shows it.
FIRST = "first-comment"
GUEST = "guest"
LINKS = "links"
WORDS = "banned-words"
NEW_ACCOUNT = "new-account"
REASONS = (FIRST, LINKS, WORDS, NEW_ACCOUNT, GUEST)

_LINK = re.compile(r"<a\s")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="flaskr.comment-form")


def form_stamp(post_id: int, at: float | None = None) -> str:
    """What the comment form carries: the post and when the form was made, signed."""
    return str(_serializer().dumps([post_id, int(time.time() if at is None else at)]))


def refusal(
    post_id: int, stamp: str, honeypot: str, author_id: int | None, body: str, guest_email: str = ""
) -> None:
    """Raise ValidationError, with a message a person understands, for a comment a bot sent.
    author_id None: a guest's, known by guest_email."""
    if honeypot:
        raise ValidationError(
            gettext("Leave the field “Leave this empty” empty, then send your comment again.")
        )
    try:
        stamped_post, made_at = _serializer().loads(stamp)
        age = time.time() - float(made_at)
    except (BadData, TypeError, ValueError):
        stamped_post, age = None, 0.0
    if stamped_post != post_id or age > STAMP_MAX_AGE:
        raise ValidationError(
            gettext("This comment form is too old. Reload the page, then send your comment again.")
        )
    if age < current_app.config["COMMENTS_MIN_SECONDS"]:
        raise ValidationError(
            gettext("That was quicker than anyone writes. Wait a few seconds, then send it again.")
        )
    minutes = current_app.config["COMMENTS_DUPLICATE_MINUTES"]
    since = utcnow() - timedelta(minutes=minutes)
    if minutes and queries.same_text_since(author_id, body, since, guest_email):
        raise ValidationError(gettext("You have already posted this comment."))


def banned_words() -> list[str]:
    """COMMENTS_BANNED_WORDS as a list (a comma-separated string or a list), lower case."""
    words = current_app.config["COMMENTS_BANNED_WORDS"] or ""
    if isinstance(words, str):
        words = words.split(",")
    return [word.strip().lower() for word in words if word.strip()]


def content_hold(body: str, body_html: str) -> str | None:
    """Why this text waits for a moderator (LINKS, WORDS), or None."""
    if len(_LINK.findall(body_html)) > current_app.config["COMMENTS_MAX_LINKS"]:
        return LINKS
    text = body.lower()
    for word in banned_words():
        # Whole words: "ass" must not hold "class" (a phrase matches as written).
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            return WORDS
    return None


def hold_reason(author: Record, moderator: bool, body: str, body_html: str) -> str | None:
    """Why a new comment waits for a moderator, or None to publish it at once.

    Whoever moderates the post (its author, editors, admins) is never held.
    """
    if moderator:
        return None
    reason = content_hold(body, body_html)
    if reason is not None:
        return reason
    hours = current_app.config["COMMENTS_NEW_ACCOUNT_HOURS"]
    if hours and author["created"] > utcnow() - timedelta(hours=hours):
        return NEW_ACCOUNT
    if current_app.config["COMMENTS_HOLD_FIRST"] and not queries.approved_count(author["id"]):
        return FIRST
    return None


def guest_hold_reason(email: str, body: str, body_html: str) -> str | None:
    """Why a guest's confirmed comment waits for a moderator, or None to publish it:
    the content rules, and (COMMENTS_HOLD_FIRST) until one from that address was approved."""
    reason = content_hold(body, body_html)
    if reason is not None:
        return reason
    if current_app.config["COMMENTS_HOLD_FIRST"] and not queries.approved_guest(email):
        return GUEST
    return None
