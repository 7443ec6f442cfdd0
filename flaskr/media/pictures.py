"""A picture as pages show it: the <img> attributes Markdown's ![alt](/media/KEY) becomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flaskr.media.names import Key

#: How wide a post's pictures are shown: the text column (about 40rem), or the
#: whole screen on a phone. The browser picks the srcset entry from this.
SIZES = "(min-width: 42rem) 40rem, 100vw"

#: An upload's public files: (width, extension) of each.
Files = Sequence[tuple[int, str]]


def attributes(
    key: Key, files: Files, widths: Sequence[int], url: Callable[[str], str]
) -> dict[str, str]:
    """src, srcset, sizes, width and height for a picture with these files.

    The size comes from its key (see media.names); srcset lists the WebP files it
    has, so a page names only files that exist. `url` turns a stored name into
    the address browsers fetch it from.
    """
    srcset = [
        f"{url(key.variant(width, 'webp'))} {width}w"
        for width, extension in sorted(files)
        if extension == "webp"
    ]
    return {
        "src": url(fallback_name(key, files, widths)),
        "srcset": ", ".join(srcset),
        "sizes": SIZES,
        "width": str(key.width),
        "height": str(key.height),
    }


def fallback_name(key: Key, files: Files, widths: Sequence[int]) -> str:
    """The file a browser without srcset shows (and /media/KEY serves): the widest in the
    upload's own format that pages show - never the 12-megapixel one."""
    own = sorted(width for width, extension in files if extension == key.extension)
    widest = max((w for w in widths if w > 0), default=key.width)
    shown = [width for width in own if width <= widest]
    return key.variant(max(shown) if shown else min(own, default=key.width), key.extension)


def smallest_name(key: Key, files: Files) -> str:
    """The narrowest file of a picture (WebP where there is one): for thumbnails."""
    width, extension = min(files, key=lambda file: (file[0], file[1] != "webp"))
    return key.variant(width, extension)
