"""Guest comments (COMMENTS_GUESTS, off by default): a visitor comments under a name and
an address, and the comment waits, seen by nobody, until they follow the link mailed
to that address. Then it meets the rules any comment meets (links, banned words) and,
with COMMENTS_HOLD_FIRST, waits for a moderator until one from that address was
approved. A guest cannot edit or delete a comment: there is no account to know them by.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext
from itsdangerous import BadData, URLSafeTimedSerializer

from flaskr.comments import queries, screening
from flaskr.comments.services import NewComment, announce, rendered, replied_to
from flaskr.comments.tables import GUEST_NAME_MAX
from flaskr.db import transaction, utcnow
from flaskr.mail.addresses import address_key, check_address
from flaskr.mail.services import queue_message
from flaskr.notifications import services as notifications
from flaskr.policy import Record
from flaskr.validation import require_text

_SALT = "flaskr.guest-comment"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def post_guest_comment(post: Record, form: NewComment) -> Record:
    """Save a visitor's comment as `unverified` and mail its confirmation link.

    Raises ValidationError for a name, address or text that cannot be saved, and for
    a bot's form (screening.refusal). Guests' comments never confirmed are removed
    once their link has expired.
    """
    name = require_text(form.name, gettext("Name"), max_len=GUEST_NAME_MAX).strip()
    email = check_address(form.email)
    body, body_html = rendered(form.body)
    parent = replied_to(post, form.parent_id)
    hours = current_app.config["EMAIL_CONFIRM_HOURS"]
    key = address_key(email)
    with transaction():
        screening.refusal(post["id"], form.stamp, form.honeypot, None, body, guest_email=key)
        now = utcnow()
        queries.delete_unverified(now - timedelta(hours=hours))
        values = {
            "post_id": post["id"],
            "author_id": None,
            "guest_name": name,
            "guest_email": key,
            "parent_id": None if parent is None else int(parent["id"]),
            "body": body,
            "body_html": body_html,
            "status": "unverified",
            "created_at": now,
            "announced": False,
        }
        values["id"] = queries.insert(**values)
        token = _signer().dumps(values["id"])
        queue_message(
            email,
            "comment-confirm",
            "comment_confirm",
            link=url_for("comments.confirm", token=token, _external=True),
            hours=hours,
            title=post["title"],
            name=name,
        )
    return values


def unverified_comment(token: str) -> Record | None:
    """The guest's comment a confirmation link names, while it waits for it; None for a
    link that is not ours, has expired, or was followed already."""
    hours = current_app.config["EMAIL_CONFIRM_HOURS"]
    try:
        comment_id = _signer().loads(token, max_age=hours * 3600)
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(comment_id, int):
        return None
    found = queries.find_comment(comment_id)
    return found if found is not None and found["status"] == "unverified" else None


def confirm(comment: Record, post: Record) -> str:
    """The guest followed the link: the comment (under `post`) is shown, or held for a
    moderator (its status). Those it concerns are mailed as for any comment."""
    reason = screening.guest_hold_reason(
        comment["guest_email"], comment["body"], comment["body_html"]
    )
    with transaction():
        status = "held" if reason else "published"
        queries.update([comment["id"]], status=status, held_reason=reason)
        if status == "published":
            announce(comment, {post["id"]: post})
        else:
            guest = {"id": None, "username": comment["guest_name"]}
            notifications.comment_held(comment, post, guest)
    return status
