"""Serving pictures' files: types and cache lifetimes, never an original, no camera
data, and the CSP that lets pages load them."""

from __future__ import annotations

import io

import pytest
from media_client import (
    fetch,
    original,
    picture,
    public_names,
    rows,
    upload,
)
from PIL import Image

from flaskr.media import services

# --- serving -------------------------------------------------------------------


def test_files_are_served_as_pictures_for_a_year_and_originals_never(app, author, store_settings):
    upload(author, picture())
    author.post("/auth/logout")
    for name in public_names(app):
        response = fetch(author, f"/media/{name}")
        if store_settings:  # an object store: browsers fetch from it
            assert response.status_code == 301
            bucket = store_settings["MEDIA_S3_BUCKET"]
            base = f"{store_settings['MEDIA_S3_ENDPOINT_URL']}/{bucket}"
            assert response.location == f"{base}/public/{name}"
            continue
        assert response.status_code == 200
        expected = "image/webp" if name.endswith(".webp") else "image/jpeg"
        assert response.headers["Content-Type"] == expected
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == "inline"
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]
    assert fetch(author, f"/media/{original(app)}").status_code == 404


@pytest.mark.parametrize("store_settings", [{}])  # the local store: object stores serve files
def test_a_signed_in_reader_gets_the_same_cacheable_file(app, author, store_settings):
    upload(author, picture())
    response = fetch(author, f"/media/{public_names(app)[0]}")
    assert response.status_code == 200 and "no-store" not in response.headers["Cache-Control"]


def test_the_key_markdown_names_serves_the_picture_pages_show(app, author, store_settings):
    upload(author, picture("PNG", (2000, 1000)), filename="p.png")
    key = rows(app)[0]["key"]
    response = fetch(author, f"/media/{key}")
    token = key.split("-")[0] if key.count("-") == 1 else key.rsplit("-", 1)[0]
    fallback = f"{token}-1600.png"
    if store_settings:
        assert response.status_code == 301 and response.location.endswith(f"/public/{fallback}")
    else:
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(response.data)).size == (1600, 800)


@pytest.mark.parametrize(
    "name",
    [
        "nothing.jpg",
        "AAAAAAAAAAAAAAAAAAAAAA-480.jpg",  # could be one, is not
        "AAAAAAAAAAAAAAAAAAAAAA-10x10.jpg",
        "AAAAAAAAAAAAAAAAAAAAAA-480.svg",
        "AAAAAAAAAAAAAAAAAAAAAA-480.html",
        "..%2f..%2fsecret_key",
    ],
)
def test_names_that_are_no_file_are_404(client, name):
    assert fetch(client, f"/media/{name}").status_code == 404


def test_served_files_carry_no_camera_data(app, author, store_settings):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    data = picture(exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    upload(author, data)
    with app.app_context():
        store = services.store()
        for name in public_names(app):
            served = store.get(name, public=True)
            assert served is not None
            assert b"Camera maker" not in served and b"Exif" not in served
            assert not Image.open(io.BytesIO(served)).getexif()


def test_pages_may_load_pictures_from_the_object_store_and_nowhere_else(client, store_settings):
    csp = client.get("/").headers["Content-Security-Policy"]
    if store_settings:
        bucket = f"{store_settings['MEDIA_S3_ENDPOINT_URL']}/{store_settings['MEDIA_S3_BUCKET']}"
        assert csp.endswith(f"; img-src 'self' {bucket}/public/")  # not the whole host
    else:
        assert "img-src" not in csp  # default-src 'self': this site only
    assert "default-src 'self'" in csp


@pytest.mark.parametrize(
    "source",
    ["https://cdn.example/x; script-src *", "https://a b.example/", "javascript:x", "'self'"],
)
def test_an_address_that_would_change_the_policy_is_refused_at_start(app, source):
    from flaskr import security

    with pytest.raises(ValueError, match="Content-Security-Policy"):
        security.allow_images_from(app, source)
