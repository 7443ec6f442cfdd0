"""The picture pipeline: only whole pictures of the accepted formats pass; what is made
from them is upright, free of metadata, in each width (never wider), still moving."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from flaskr.media import pipeline
from flaskr.media.pipeline import FORMATS, MAX_SIDE, ImageRefused, probe, variants

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

MAX = 40_000_000


def picture(fmt: str = "PNG", size=(64, 48), **save) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    image.save(out, format=fmt, **save)
    return out.getvalue()


def animation(fmt: str = "GIF", frames: int = 3, size=(40, 30)) -> bytes:
    images = [Image.new("RGB", size, (i * 12 % 256, 20, 200)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format=fmt, save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_accepted_format_is_read_for_what_it_is(fmt):
    found = probe(picture(fmt), max_pixels=MAX)
    assert (found.format, found.width, found.height, found.frames) == (fmt, 64, 48, 1)
    assert found.mime == FORMATS[fmt][0] and not found.animated


def test_avif_is_accepted_where_pillow_reads_it():
    # This machine's Pillow wheel carries libavif (README says so).
    assert "AVIF" in FORMATS and "AVIF" in pipeline.accepted_names()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "web page or script"),
        (b"<!doctype html><p>hello", "web page or script"),
        (b"GIF89a not really", "not a picture flaskr accepts"),
        (b"just some text, named photo.png", "not a picture flaskr accepts"),
        (b"BM" + b"\0" * 60, "not a picture flaskr accepts"),  # a BMP: not accepted
        (b"", "not a picture flaskr accepts"),
    ],
)
def test_what_is_not_an_accepted_picture_is_refused_in_words(data, says):
    with pytest.raises(ImageRefused, match=says):
        probe(data, max_pixels=MAX)


def test_a_picture_with_a_script_appended_is_refused():
    with pytest.raises(ImageRefused, match="web page or script"):
        probe(picture("PNG") + b"<script>alert(1)</script>", max_pixels=MAX)
    with pytest.raises(ImageRefused, match="web page or script"):
        probe(picture("JPEG") + b"<?php system($_GET['c']); ?>", max_pixels=MAX)


def test_a_png_with_anything_after_its_end_is_refused():
    with pytest.raises(ImageRefused, match="something more after its picture"):
        probe(picture("PNG") + b"\x00hidden payload", max_pixels=MAX)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_a_truncated_picture_is_refused(fmt):
    data = picture(fmt, size=(300, 200))
    with pytest.raises(ImageRefused):
        probe(data[: len(data) * 2 // 3], max_pixels=MAX)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 16)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.mark.parametrize(
    ("width", "height", "says"),
    [
        # Past twice Pillow's own limit: its guard speaks first, in our words.
        (100_000, 100_000, "more pixels than the 40 megapixels accepted"),
        # Under Pillow's limit, over ours: refused from the header, before decoding.
        (10_000, 5_000, "10000 x 5000 pixels; at most 40 megapixels"),
    ],
)
def test_a_small_file_claiming_a_huge_picture_is_refused_from_its_header(width, height, says):
    data = _png_claiming(width, height)
    assert len(data) < 100
    with pytest.raises(ImageRefused, match=says):
        probe(data, max_pixels=MAX)


def test_an_animation_with_too_many_frames_for_its_size_is_refused():
    data = animation(frames=20, size=(100, 100))
    with pytest.raises(ImageRefused, match="too many frames"):
        probe(data, max_pixels=100 * 100 * 4)  # four frames' worth
    assert probe(data, max_pixels=100 * 100 * 5).frames == 20


def _photo_with_gps(orientation: int) -> bytes:
    image = Image.new("RGB", (120, 80), (10, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 5.0)})
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret place</x:xmpmeta>'
    image.save(out, format="JPEG", exif=exif.tobytes(), xmp=xmp, comment=b"taken at home")
    return out.getvalue()


def test_made_files_are_upright_and_carry_no_exif_gps_xmp_or_comment():
    data = _photo_with_gps(orientation=6)  # the camera was turned a quarter
    found = probe(data, max_pixels=MAX)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload has GPS
    made = variants(data, found, [60, 480])
    assert {(v.format, v.width, v.height) for v in made} == {
        ("JPEG", 60, 90), ("JPEG", 80, 120), ("WEBP", 60, 90), ("WEBP", 80, 120),
    }  # fmt: skip
    for variant in made:
        served = Image.open(io.BytesIO(variant.data))
        assert served.size == (variant.width, variant.height)
        assert not served.getexif() and "exif" not in served.info
        for marker in (b"GPS", b"PhoneMaker", b"secret place", b"taken at home", b"xmpmeta"):
            assert marker not in variant.data, (variant.format, marker)


def test_widths_are_never_wider_than_the_upload_and_webp_stays_webp():
    data = picture("WEBP", size=(500, 250))
    made = variants(data, probe(data, max_pixels=MAX), [480, 960, 1600])
    assert [(v.format, v.width, v.height) for v in made] == [("WEBP", 480, 240), ("WEBP", 500, 250)]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_keep_moving_in_every_width(fmt):
    data = animation(fmt, frames=3, size=(200, 100))
    found = probe(data, max_pixels=MAX)
    assert found.animated and found.frames == 3
    for variant in variants(data, found, [100]):
        moving = Image.open(io.BytesIO(variant.data))
        assert getattr(moving, "n_frames", 1) == 3, (variant.format, variant.width)


def test_a_picture_wider_than_any_width_gets_no_full_size_webp():
    # Pages never show it wider than the widest width: its full size is kept only in
    # its own format (the cleaned original).
    data = picture("JPEG", size=(1000, 500))
    made = variants(data, probe(data, max_pixels=MAX), [480])
    assert [(v.format, v.width) for v in made] == [("JPEG", 480), ("WEBP", 480), ("JPEG", 1000)]


def test_a_picture_with_a_side_longer_than_webp_holds_is_refused_in_words():
    # A long screenshot: few enough pixels, but WebP cannot hold 18,000 rows.
    out = io.BytesIO()
    Image.new("L", (200, MAX_SIDE + 1)).save(out, "PNG")
    with pytest.raises(ImageRefused, match="no side may be longer than 16383 pixels"):
        probe(out.getvalue(), max_pixels=MAX)
    out = io.BytesIO()
    Image.new("L", (200, MAX_SIDE)).save(out, "PNG")
    assert probe(out.getvalue(), max_pixels=MAX).height == MAX_SIDE


def test_an_encoder_that_fails_is_a_refusal_not_a_crash(monkeypatch):
    data = picture("PNG", size=(300, 200))
    found = probe(data, max_pixels=MAX)

    def failing(*_args, **_kwargs):
        raise OSError("encoder error -2")

    monkeypatch.setattr(pipeline, "_encode", failing)
    with pytest.raises(ImageRefused, match="could not be converted"):
        variants(data, found, [100])
