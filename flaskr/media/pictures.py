"""A picture as pages show it: the <img> attributes Markdown's ![alt](/media/KEY) becomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flaskr.media.names import Key, parse_key
from flaskr.media.pipeline import FORMATS, plan

_FORMAT_OF = {ext: name for name, (_, ext) in FORMATS.items()}

#: How wide a post's pictures are shown: the text column (about 40rem), or the
#: whole screen on a phone. The browser picks the srcset entry from this.
SIZES = "(min-width: 42rem) 40rem, 100vw"


def attributes(
    key_text: str, widths: Sequence[int], url: Callable[[str], str]
) -> dict[str, str] | None:
    """src, srcset, sizes, width and height for the picture a key names (None: not a key).

    Read from the key alone (see media.names) and the widths setting, so a page
    needs no query per picture. `url` turns a stored name into the address
    browsers fetch it from.
    """
    key = parse_key(key_text)
    if key is None:
        return None
    made = plan(key.width, _FORMAT_OF[key.extension], widths)
    srcset = [
        f"{url(key.variant(width, 'webp'))} {width}w"
        for width, formats in made
        if "WEBP" in formats
    ]
    return {
        "src": url(fallback_name(key, widths)),
        "srcset": ", ".join(srcset),
        "sizes": SIZES,
        "width": str(key.width),
        "height": str(key.height),
    }


def fallback_name(key: Key, widths: Sequence[int]) -> str:
    """The file a browser without srcset shows (and /media/KEY serves): the widest made
    that pages show, in the upload's own format - never the 12-megapixel one."""
    made = [width for width, _ in plan(key.width, _FORMAT_OF[key.extension], widths)]
    widest = max((w for w in widths if w > 0), default=key.width)
    shown = [width for width in made if width <= widest]
    return key.variant(max(shown) if shown else min(made), key.extension)


def smallest_name(key: Key, widths: Sequence[int]) -> str:
    """The narrowest file made of a picture (WebP where one is made): for thumbnails."""
    width, formats = plan(key.width, _FORMAT_OF[key.extension], widths)[0]
    return key.variant(width, "webp" if "WEBP" in formats else key.extension)
