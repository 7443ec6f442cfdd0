"""An uploaded picture checked by decoding it, cleaned of metadata and made in the widths
pages show. Never trusts a file's name or the type the browser claims: Pillow decodes
every frame, and only what it decoded is ever written out again."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError, features

from flaskr.validation import ValidationError

#: Pillow's name of each accepted format -> (MIME type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
if features.check("avif"):  # Pillow 11.3+ wheels carry libavif
    FORMATS["AVIF"] = ("image/avif", "avif")
#: Each format's file extension; each extension's MIME type.
EXTENSIONS = {name: ext for name, (_, ext) in FORMATS.items()}
MIME_TYPES = {ext: mime for mime, ext in FORMATS.values()}

#: Formats that may move: their frames are all kept, in every width.
ANIMATED = frozenset({"GIF", "WEBP"})
#: The longest side WebP can hold: a picture any longer could not be made in WebP.
MAX_SIDE = 16383
#: An animation may hold this many times the pixels of the largest still picture.
FRAME_PIXELS_FACTOR = 4

# Markup or code a picture never needs: a file holding one is a polyglot (a picture
# a browser could also read as a page or a script).
_MARKUP = re.compile(rb"<(?:script|html|body|svg|iframe|object|embed|\?php|!doctype)", re.I)


class ImageRefused(ValidationError):
    """The upload is not a picture flaskr accepts; the message says why, in words."""


@dataclass(frozen=True)
class Probe:
    """What decoding a picture found."""

    format: str
    width: int
    height: int
    frames: int

    @property
    def mime(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def animated(self) -> bool:
        return self.frames > 1 and self.format in ANIMATED


@dataclass(frozen=True)
class Variant:
    """One file made from an upload: a width in one format."""

    format: str
    width: int
    height: int
    data: bytes

    @property
    def mime(self) -> str:
        return FORMATS[self.format][0]


def accepted_names() -> str:
    """The accepted formats as people name them ("JPEG, PNG, GIF, WebP, AVIF")."""
    return ", ".join("WebP" if name == "WEBP" else name for name in FORMATS)


def probe(data: bytes, *, max_pixels: int) -> Probe:
    """Decode the upload whole and say what it is; ImageRefused if it is anything but a
    complete JPEG, PNG, GIF, WebP (or AVIF) picture of at most max_pixels.

    The size is read from the header first, so a small file claiming a huge picture
    (a decompression bomb) is refused before anything is decoded.
    """
    if _MARKUP.search(data):
        raise ImageRefused(
            gettext(
                "This file holds a web page or script besides a picture. Upload the picture alone."
            )
        )
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise _too_large(width, height, max_pixels)
            if max(width, height) > MAX_SIDE:
                raise ImageRefused(
                    gettext(
                        "This picture is %(width)d x %(height)d pixels; no side may be longer "
                        "than %(most)d pixels. Crop it into parts, or make it smaller.",
                        width=width,
                        height=height,
                        most=MAX_SIDE,
                    )
                )
            found = Probe(str(image.format), width, height, getattr(image, "n_frames", 1))
            if width * height * found.frames > max_pixels * FRAME_PIXELS_FACTOR:
                raise ImageRefused(gettext("This animation has too many frames for its size."))
            # Every frame decoded: a truncated or damaged file fails here, not on a page.
            for frame in ImageSequence.Iterator(image):
                frame.load()
    except ImageRefused:
        raise  # a ValueError too: not to be taken for a damaged file below
    except Image.DecompressionBombError:
        # Pillow's own guard, for headers past twice its limit: refused as our check would.
        raise ImageRefused(
            gettext(
                "This picture has more pixels than the %(megapixels)s megapixels accepted.",
                megapixels=f"{max_pixels / 1e6:g}",
            )
        ) from None
    except UnidentifiedImageError:
        raise ImageRefused(
            gettext("This is not a picture flaskr accepts (%(formats)s).", formats=accepted_names())
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRefused(
            gettext("This picture is damaged or incomplete: it could not be read to its end.")
        ) from None
    if found.format == "PNG" and _png_end(data) != len(data):
        raise ImageRefused(
            gettext("This file holds something more after its picture. Upload the picture alone.")
        )
    return found


def _too_large(width: int, height: int, max_pixels: int) -> ImageRefused:
    return ImageRefused(
        gettext(
            "This picture is %(width)d x %(height)d pixels; "
            "at most %(megapixels)s megapixels are accepted.",
            width=width,
            height=height,
            megapixels=f"{max_pixels / 1e6:g}",
        )
    )


def _png_end(data: bytes) -> int:
    """Where a PNG's last chunk (IEND, then its 4-byte checksum) ends."""
    at = data.rfind(b"IEND")
    return at + 8 if at >= 4 else -1


def plan(full_width: int, source_format: str, widths: Iterable[int]) -> list[tuple[int, list[str]]]:
    """Which widths of a picture `full_width` wide are made, each in which formats:
    the widths asked for that are narrower than it, and its own; each in its own
    format and (for any but WebP) in WebP, except a full size wider than pages show."""
    widths = [w for w in widths if w > 0]
    widest = max(widths, default=0)
    made = []
    for width in sorted({w for w in widths if w < full_width} | {full_width}):
        formats = [source_format]
        if source_format != "WEBP" and (width < full_width or full_width <= widest):
            formats.append("WEBP")
        made.append((width, formats))
    return made


def variants(data: bytes, found: Probe, widths: Iterable[int]) -> list[Variant]:
    """The picture in each width (only those narrower than it, and its own), in WebP and
    in its own format: turned upright as its EXIF says, with no metadata left (no EXIF,
    GPS, XMP or comments; the colour profile stays), animations kept moving.

    Its own width is made in WebP only when pages may show it that wide (it is not
    wider than the widest width asked for): a 12-megapixel photo's full-size WebP
    would cost half the time and never be shown.
    """
    try:
        return _made(data, found, widths)
    except (OSError, ValueError) as error:  # an encoder's refusal: the picture's, not ours
        if isinstance(error, ImageRefused):
            raise
        raise ImageRefused(
            gettext("This picture could not be converted to the sizes pages need.")
        ) from error


def _made(data: bytes, found: Probe, widths: Iterable[int]) -> list[Variant]:
    with Image.open(io.BytesIO(data), formats=[found.format]) as image:
        frames, durations = _upright_frames(image, found)
        full_width, full_height = frames[0].size  # upright: a quarter turn swaps the sides
        made = []
        for width, formats in plan(full_width, found.format, widths):
            height = max(1, round(full_height * width / full_width))
            resized = [
                frame
                if width == full_width
                else frame.resize((width, height), Image.Resampling.LANCZOS)
                for frame in frames
            ]
            for name in formats:
                made.append(Variant(name, width, height, _encode(resized, durations, name, image)))
        return made


def _upright_frames(image: Image.Image, found: Probe) -> tuple[list[Image.Image], list[int]]:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image) if found.animated else [image]:
        upright = ImageOps.exif_transpose(frame.copy())
        # Palette pictures resize smoothly (not pixel by pixel) in full colour.
        if found.animated or upright.mode in ("P", "PA", "1", "LA"):
            upright = upright.convert("RGBA")
        # Pillow writes what a picture's info holds (EXIF, XMP, a JPEG comment): nothing.
        upright.info = {}
        frames.append(upright)
        durations.append(int(frame.info.get("duration", 100)))
    return frames, durations


def _encode(
    frames: list[Image.Image], durations: list[int], name: str, source: Image.Image
) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    # Only what is named here is written: Pillow copies no EXIF, XMP or comment by itself.
    options: dict[str, object] = {}
    if source.info.get("icc_profile"):
        options["icc_profile"] = source.info["icc_profile"]
    if len(frames) > 1:
        options.update(
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=source.info.get("loop", 0),
        )
    if name == "JPEG":
        first = first.convert("RGB")
        options.update(quality=85, optimize=True, progressive=True)
    elif name == "WEBP":
        options.update(quality=80, method=4)
    elif name == "PNG":
        options.update(optimize=True)
    elif name == "AVIF":
        options.update(quality=60)
    first.save(out, format=name, **options)
    return out.getvalue()
