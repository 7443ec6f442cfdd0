"""Readable URL pieces made from post titles, in the title's own script."""

import re
import unicodedata
from functools import lru_cache

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
