"""Readable URL pieces made from post titles, in the title's own script."""

import re
import unicodedata
from functools import lru_cache
from typing import Any

from flask_babel import gettext

from flaskr.validation import ValidationError

SLUG_MAX = 80


def _folded(char: str) -> str:
    # Latin letters with accents (and compatibility forms such as full-width or
    # Roman numerals) become the plain letters people type; letters of other
    # scripts - and their combining marks, which some scripts need - stay.
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return plain or char


@lru_cache(maxsize=16384)
def slugify(title: str) -> str:
    """Turn a title into the lower-case, dash-separated words of a post's URL.

    "Crème brûlée" gives "creme-brulee"; "Καλημέρα κόσμε" gives "καλημέρα-κόσμε"
    and "日本語のタイトル" stays as it is (browsers show such addresses as written and
    send them percent-encoded). Only a title with no letters or digits at all
    gives "post".
    """
    folded = "".join(_folded(char) for char in unicodedata.normalize("NFC", title)).lower()
    # Letters, marks and digits of any script are kept; everything else separates words.
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-" for c in folded)
    slug = unicodedata.normalize("NFC", re.sub("-+", "-", kept)).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "post"


def post_slug(post: Any) -> str:
    """The slug of a post's address: the author's own, else made from its title."""
    return post["slug"] or slugify(post["title"])


#: The longest address text an author may type (the slug itself is cut to SLUG_MAX).
SLUG_INPUT_MAX = 200


def clean_slug(text: str) -> str | None:
    """An author's slug as addresses use it (None when left empty); ValidationError if unusable."""
    if len(text) > SLUG_INPUT_MAX:
        # Checked before slugify(), whose cache keeps what it is given.
        raise ValidationError(
            gettext("The address can have at most %(count)d characters.", count=SLUG_INPUT_MAX)
        )
    if not text.strip():
        return None
    if not any(unicodedata.category(char)[0] in "LN" for char in text):
        # slugify() would fall back to "post": say so rather than guess.
        raise ValidationError(gettext("The address needs letters or digits, e.g. my-first-post."))
    return slugify(text)
