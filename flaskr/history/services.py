"""History rules: what changed since an earlier version, and bringing one back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from flaskr.blog import queries as blog_queries
from flaskr.blog import services as blog_services
from flaskr.history import diffs, queries
from flaskr.validation import ValidationError


def _as_text(title: str, body: str, tags: str) -> str:
    return f"# {title}\n\n{body}\n\nTags: {tags}"


def diff_with_current(post: Mapping[Any, Any], old: Mapping[Any, Any]) -> diffs.Diff:
    """What changed, word by word, from an earlier version of a post to the post as it is now."""
    tags = ", ".join(blog_services.tag_names(post["id"]))
    return diffs.word_diff(
        _as_text(old["title"], old["body"], old["tags"]),
        _as_text(post["title"], post["body"], tags),
    )


def restore_revision(post_id: int, version: int, *, by: int | None = None) -> int:
    """Bring back an earlier version; the restore is itself a new version. Returns its number.

    The post keeps its status and publish time: restoring a draft's text never publishes it.
    """
    revision = queries.find_revision(post_id, version)
    current = blog_queries.find_post(post_id)
    if revision is None or current is None:
        raise ValidationError(gettext("That version does not exist."))
    # No publish_at: a save that names no publish time keeps the post's.
    draft = blog_services.Draft(
        title=revision["title"],
        body=revision["body"],
        tags=revision["tags"],
        status=current["status"],
    )
    return blog_services.replace_with_version(post_id, draft, by=by)
