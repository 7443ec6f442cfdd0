"""Tag rules: what a tag may look like, and setting a post's tags."""

from __future__ import annotations

import unicodedata

from flask_babel import gettext

from flaskr.tags import queries
from flaskr.tags.tables import TAG_MAX, TAGS_PER_POST
from flaskr.validation import ValidationError, has_control_characters

_PUNCTUATION = "_.+#-"


def _allowed(name: str) -> bool:
    # A letter, digit or _ first; then those, the punctuation, or combining marks
    # (lower() turns "İ" into "i" + a combining dot that has no composed form).
    first, rest = name[0], name[1:]
    return (first.isalnum() or first == "_") and all(
        ch.isalnum() or ch in _PUNCTUATION or unicodedata.category(ch) in ("Mn", "Mc")
        for ch in rest
    )


def parse_tags(text: str | None) -> list[str]:
    """Turn the editor's comma-separated field into clean tag names (trimmed, lower, unique)."""
    names: list[str] = []
    for raw in (text or "").split(","):
        # NFKC: the same word typed decomposed (as macOS sends it), full-width or
        # with a ligature is the same tag.
        name = unicodedata.normalize("NFKC", "-".join(raw.strip().lower().split()))
        if not name or name in names:
            continue
        if has_control_characters(name) or not _allowed(name):
            raise ValidationError(
                gettext(
                    "Tag '%(name)s' may only hold letters, digits and - _ . + #.",
                    name=name[:TAG_MAX],
                )
            )
        if len(name) > TAG_MAX:
            raise ValidationError(
                gettext("Tags are at most %(count)d characters long.", count=TAG_MAX)
            )
        names.append(name)
    if len(names) > TAGS_PER_POST:
        raise ValidationError(
            gettext("A post can have at most %(count)d tags.", count=TAGS_PER_POST)
        )
    return names


def set_tags(post_id: int, names: list[str]) -> None:
    """Make a post's tags exactly these names (call inside a transaction)."""
    queries.delete_post_tags(post_id)
    if names:
        ids = queries.ensure_tags(names)
        queries.insert_post_tags(post_id, ids)
