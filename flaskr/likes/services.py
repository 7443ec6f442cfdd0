"""Liking a post: one like per account and post, however often or at once it is asked."""

from __future__ import annotations

from typing import Any

from flaskr.db import transaction, utcnow
from flaskr.i18n.languages import ngettext
from flaskr.likes import queries


def set_like(post_id: int, user_id: int, liked: bool) -> int:
    """Make the account like the post (or not), and return the post's like count.

    Asking twice is asking once: a like already there is kept, a missing one is
    not taken back twice, so a double click or a retried request counts once.
    """
    with transaction():
        if liked:
            queries.add(post_id, user_id, utcnow())
        else:
            queries.remove(post_id, user_id)
        return queries.count(post_id)


def likes(user: Any, post_id: int) -> bool:
    """True when the signed-in user (None: a visitor) likes the post."""
    return user is not None and queries.likes(post_id, user["id"])


def count_text(count: int) -> str:
    """How pages say a post's like count."""
    return ngettext("%(num)d like", "%(num)d likes", count)
