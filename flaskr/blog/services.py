"""Post rules: validation, saving, and keeping rendered HTML current."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import RowMapping

from flaskr import markup
from flaskr.blog import queries
from flaskr.blog.tables import BODY_MAX, TITLE_MAX
from flaskr.db import transaction, utcnow
from flaskr.validation import require_text


def _clean(title: str, body: str) -> dict[str, Any]:
    title = require_text(title, "Title", max_len=TITLE_MAX).strip()
    body = require_text(body, "Body", max_len=BODY_MAX, required=False, multiline=True)
    return {
        "title": title,
        "body": body,
        "body_html": markup.render(body),
        "render_version": markup.RENDER_VERSION,
    }


def create_post(author_id: int, title: str, body: str) -> int:
    """Publish a new post; return its id."""
    values = _clean(title, body)
    now = utcnow()
    with transaction():
        return queries.insert_post(
            author_id=author_id, created=now, published_at=now, status="published", **values
        )


def revise_post(post_id: int, title: str, body: str) -> None:
    """Save new text for a post."""
    values = _clean(title, body)
    with transaction():
        current = queries.find_post(post_id)
        version = (current["version"] if current else 0) + 1
        queries.update_post(post_id, updated=utcnow(), version=version, **values)


def delete_post(post_id: int) -> None:
    """Delete a post."""
    with transaction():
        queries.delete_post(post_id)


def with_html(posts: Iterable[RowMapping]) -> list[dict[str, Any]]:
    """The posts with current rendered HTML, rendering (and caching) any that lack it."""
    result, stale = [], []
    for row in posts:
        item = dict(row)
        if item["body_html"] is None or item["render_version"] != markup.RENDER_VERSION:
            item["body_html"] = markup.render(item["body"])
            stale.append(item)
        result.append(item)
    if stale:
        with transaction():
            for item in stale:
                queries.update_rendered(item["id"], item["body_html"], markup.RENDER_VERSION)
    return result


def is_visible(post: RowMapping) -> bool:
    """True when readers may see this post (published, its time come): queries.visible() in Python."""
    return (
        post["status"] == "published"
        and post["published_at"] is not None
        and post["published_at"] <= utcnow()
    )
