"""Tag rules: what a tag may look like, and setting a post's tags."""

from __future__ import annotations

import re

from flaskr.tags import queries
from flaskr.tags.tables import TAG_MAX, TAGS_PER_POST
from flaskr.validation import ValidationError, has_control_characters

_ALLOWED = re.compile(r"^[\w][\w.+#-]*$")


def parse_tags(text: str | None) -> list[str]:
    """Turn the editor's comma-separated field into clean tag names (trimmed, lower-case, unique)."""
    names: list[str] = []
    for raw in (text or "").split(","):
        name = "-".join(raw.strip().lower().split())
        if not name or name in names:
            continue
        if has_control_characters(name) or not _ALLOWED.match(name):
            raise ValidationError(
                f"Tag {name[:TAG_MAX]!r} may only hold letters, digits and - _ . + #."
            )
        if len(name) > TAG_MAX:
            raise ValidationError(f"Tags are at most {TAG_MAX} characters long.")
        names.append(name)
    if len(names) > TAGS_PER_POST:
        raise ValidationError(f"A post can have at most {TAGS_PER_POST} tags.")
    return names


def set_tags(post_id: int, names: list[str]) -> None:
    """Make a post's tags exactly these names (call inside a transaction)."""
    queries.delete_post_tags(post_id)
    if names:
        ids = queries.ensure_tags(names)
        queries.insert_post_tags(post_id, ids)
