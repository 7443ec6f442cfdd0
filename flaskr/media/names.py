"""How an upload and its files are named.

An upload gets a random token (128 bits). Markdown names the picture by its key,
``<token>-<width>x<height>.<ext>``: a page reads the size it needs for width,
height and srcset from the name itself, without a query. Its files are
``<token>.<ext>`` (the original, never served) and ``<token>-<width>.<ext>``
for each width and format made (the variants readers fetch).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flaskr.media.pipeline import FORMATS

_EXTENSIONS = "|".join(ext for _, ext in FORMATS.values())
#: secrets.token_urlsafe(16) is always 22 characters.
_RANDOM_PART = r"[A-Za-z0-9_-]{22}"
_KEY = re.compile(
    rf"(?P<token>{_RANDOM_PART})-(?P<width>[1-9][0-9]{{0,5}})x(?P<height>[1-9][0-9]{{0,5}})\.(?P<ext>{_EXTENSIONS})"
)
_VARIANT = re.compile(
    rf"(?P<token>{_RANDOM_PART})-(?P<width>[1-9][0-9]{{0,5}})\.(?P<ext>{_EXTENSIONS})"
)


@dataclass(frozen=True)
class Key:
    """What a picture's key says: its token, upright size and original format's extension."""

    token: str
    width: int
    height: int
    extension: str

    def __str__(self) -> str:
        return f"{self.token}-{self.width}x{self.height}.{self.extension}"

    def original(self) -> str:
        """The stored name of the upload as it came (private)."""
        return f"{self.token}.{self.extension}"

    def variant(self, width: int, extension: str) -> str:
        """The stored name of one width in one format."""
        return f"{self.token}-{width}.{extension}"


def new_token() -> str:
    """The random part of a new upload's names (128 bits)."""
    return secrets.token_urlsafe(16)


def parse_key(text: str) -> Key | None:
    """The key this text is, or None."""
    found = _KEY.fullmatch(text)
    if found is None:
        return None
    return Key(found["token"], int(found["width"]), int(found["height"]), found["ext"])


def is_variant_name(text: str) -> bool:
    """True for a name a public variant could have."""
    return _VARIANT.fullmatch(text) is not None
