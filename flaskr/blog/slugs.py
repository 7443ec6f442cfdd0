"""Readable URL pieces made from post titles."""

import re
import unicodedata
from functools import lru_cache

SLUG_MAX = 80


@lru_cache(maxsize=16384)
def slugify(title: str) -> str:
    """Turn a title into the lower-case, dash-separated words of a post's URL."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "post"
