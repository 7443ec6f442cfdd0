"""Deleting a post into the trash, restoring it, and purging what has waited long enough."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import current_app

from flaskr.blog import queries as blog_queries
from flaskr.db import transaction, utcnow
from flaskr.media import services as media_services
from flaskr.tags import services as tag_services
from flaskr.trash import queries


def kept_since(now: datetime | None = None) -> datetime:
    """The oldest deletion time still in the trash (TRASH_DAYS ago)."""
    return (now or utcnow()) - timedelta(days=current_app.config["TRASH_DAYS"])


def move_to_trash(post_id: int) -> bool:
    """Delete a post, keeping it whole in the trash (TRASH_DAYS; 0: deleted for good).

    False if the post does not exist. Expired trash goes in the same transaction.
    """
    with transaction():
        found = queries.snapshot(post_id)
        if found is None:
            return False
        row, content = found
        now = utcnow()
        gone = queries.purge_before(kept_since(now))
        if current_app.config["TRASH_DAYS"] > 0:
            queries.insert_trashed(row, content, now)
        else:
            gone.append(content)
        blog_queries.delete_post(post_id)
    _forget_pictures(gone)
    return True


def _forget_pictures(contents: list[str]) -> None:
    """Delete the pictures posts gone for good showed, where nothing else shows them."""
    for content in contents:
        post = json.loads(content)["post"]
        media_services.delete_unused(post["author_id"], post["body"], post.get("cover") or "")


def find(post_id: int):  # noqa: ANN201 - a row mapping or None
    """A post in the trash (None if it is not there, or has waited past TRASH_DAYS)."""
    return queries.find_trashed(post_id, kept_since())


def restore(post_id: int) -> bool:
    """Put a trashed post back, with its id, address, history and tags; False if gone."""
    with transaction():
        trashed = queries.find_trashed(post_id, kept_since(), for_update=True)
        if trashed is None:
            return False
        restored_id, tags = queries.put_back(trashed["content"], trashed["author_id"])
        tag_services.set_tags(restored_id, tags)
        # The pictures it shows are in use again (deleting them was refused no longer).
        restored = json.loads(trashed["content"])["post"]
        media_services.record_uses(
            restored_id, trashed["author_id"], restored["body"], restored.get("cover") or ""
        )
        queries.delete_trashed(post_id)  # its content is the post again
    return True


def delete_forever(post_id: int) -> bool:
    """Remove a post from the trash for good; False if it was not there."""
    with transaction():
        gone = queries.delete_trashed(post_id)
    _forget_pictures(gone)
    return bool(gone)


def purge_expired() -> int:
    """Remove everything that has waited in the trash past TRASH_DAYS; how many went."""
    with transaction():
        gone = queries.purge_before(kept_since())
    _forget_pictures(gone)
    return len(gone)


def trashed_page(author_id: int, number: int, per_page: int):  # noqa: ANN201 - rows
    """Rows of page `number` of an author's trash (one extra: is there a next page?)."""
    return queries.list_trashed(author_id, kept_since(), page=number, per_page=per_page)
