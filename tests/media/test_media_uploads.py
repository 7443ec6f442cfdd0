"""Uploading pictures: what is accepted, what is refused and why, the limits, and
failures that leave nothing behind."""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

import pytest
import sqlalchemy as sa
from media_client import (
    picture,
    replace,
    rows,
    stored,
    upload,
)
from PIL import Image

from flaskr.media import queries, services
from flaskr.media.storage import StorageError, StorageFull
from flaskr.media.tables import media_file

# --- uploading -----------------------------------------------------------------


def test_an_upload_without_javascript_says_the_markdown_to_paste(app, author):
    response = upload(author, picture())
    assert response.status_code == 302 and response.location.endswith("/media/")
    page = author.get("/media/").get_data(as_text=True)
    (row,) = rows(app)
    markdown = f"![A red square](/media/{row['key']})"
    assert "Paste this into a post" in page and markdown in page
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}-1200x800\.jpg", row["key"])
    assert (row["width"], row["height"], row["format"], row["alt"]) == (
        1200,
        800,
        "JPEG",
        "A red square",
    )
    names = {f["name"]: f for f in rows(app, media_file)}
    assert names == {name: names[name] for name in stored(app)}  # a row for every file, no more
    assert row["bytes"] == sum(f["bytes"] for f in names.values())
    token = row["key"].split("-1200x800")[0]
    assert {n for n, f in names.items() if not f["public"]} == {f"{token}.jpg"}
    assert {n for n, f in names.items() if f["public"]} == {
        f"{token}-{w}.{ext}" for w in (480, 960, 1200) for ext in ("jpg", "webp")
    }


def test_an_upload_from_the_editor_script_answers_json(app, author):
    response = upload(author, picture("PNG", (300, 200)), filename="a.png", json=True)
    assert response.status_code == 201
    (row,) = rows(app)
    assert response.json == {
        "id": row["id"],
        "key": row["key"],
        "markdown": f"![A red square](/media/{row['key']})",
    }


def test_a_decorative_picture_needs_no_description_and_gets_empty_alt(app, author):
    response = upload(author, picture(), alt="", decorative=True, json=True)
    assert response.status_code == 201
    assert response.json["markdown"].startswith("![](/media/")
    assert rows(app)[0]["decorative"] is True


def test_brackets_in_a_description_cannot_end_the_markdown_early(author):
    response = upload(author, picture(), alt="a [sign] here", json=True)
    assert response.json["markdown"].startswith(r"![a \[sign\] here](/media/")


@pytest.mark.parametrize(
    ("data", "alt", "message"),
    [
        (picture(), "", "Describe the picture"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "x",
            "web page or script",
        ),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "x",
            "web page or script",
        ),
        (picture("PNG") + b"<script>alert(1)</script>", "x", "web page or script"),
        (picture("PNG") + b"trailing", "x", "something more after its picture"),
        (picture()[:2000], "x", "damaged or incomplete"),
        (b"GIF89a" + b"\x00" * 10, "x", "not a picture flaskr accepts"),
        (b"plain text", "x", "not a picture flaskr accepts"),
    ],
)
def test_what_is_not_a_clean_picture_is_refused_and_nothing_is_kept(
    app, author, data, alt, message
):
    response = upload(author, data, alt=alt, filename="innocent.png")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(app) == [] and stored(app) == set()


def test_the_same_refusal_comes_as_json_to_the_script(app, author):
    response = upload(author, b"plain text", json=True)
    assert response.status_code == 400 and "not a picture" in response.json["error"]


def test_no_file_chosen_is_a_clear_error(author):
    response = author.post("/media/", data={"alt": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a picture to upload." in response.get_data(as_text=True)


def test_a_bomb_claiming_100k_by_100k_pixels_is_refused_from_its_header(app, author):
    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + checksum

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )
    response = upload(author, data, filename="bomb.png")
    assert response.status_code == 400
    assert "more pixels than the 40 megapixels accepted" in response.get_data(as_text=True)
    assert stored(app) == set()


def test_a_gif_bomb_of_many_large_frames_is_refused(app, author, make_app):
    app = make_app(MEDIA_MAX_PIXELS=100_000)
    client = app.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})
    # 90k pixels each, 720k in all; each different (Pillow merges frames that are not).
    frames = [Image.new("RGB", (300, 300), (30 * i, 0, 0)) for i in range(8)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    response = upload(client, out.getvalue(), filename="bomb.gif")
    assert response.status_code == 400
    assert "too many frames" in response.get_data(as_text=True)


def test_a_picture_larger_than_other_requests_may_be_is_accepted(app, author):
    big = picture("PNG", (900, 900), compress_level=0)  # ~2.4 MB: past MAX_CONTENT_LENGTH
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    assert upload(author, big, filename="big.png").status_code == 302
    # ... and the larger limit is the upload's alone.
    body = b"title=x&body=" + b"y" * len(big)  # bytes: the test client keeps them in memory
    response = author.post("/create", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_a_file_past_media_max_bytes_gets_a_413_and_nothing_is_kept(app, author, make_app):
    small = make_app(MEDIA_MAX_BYTES=50_000)
    client = small.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})
    response = upload(client, picture("PNG", (400, 400), compress_level=0))
    assert response.status_code == 413
    assert "larger than the 0.05 MB a picture may be" in response.get_data(as_text=True)
    response = upload(client, picture("PNG", (400, 400), compress_level=0), json=True)
    assert response.status_code == 413 and "0.05 MB" in response.json["error"]
    assert rows(app) == [] and stored(app) == set()


def test_a_200_mb_upload_is_refused_from_its_length_before_it_is_read(app, author):
    # The body is never read: the declared length alone is past MEDIA_MAX_BYTES.
    body = io.BytesIO(b"--x\r\n")
    response = author.post(
        "/media/",
        input_stream=body,
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert "larger than the 20 MB a picture may be" in response.get_data(as_text=True)
    assert body.tell() == 0
    assert rows(app) == [] and stored(app) == set()


def test_the_hourly_limit_counts_uploads_per_account(make_app, client, auth):
    app = make_app(MEDIA_UPLOADS_PER_HOUR=2)
    client = app.test_client()
    AuthClient = type(auth)
    AuthClient(client).register()
    AuthClient(client).login()
    assert [upload(client, picture(size=(50, 50))).status_code for _ in range(2)] == [302, 302]
    response = upload(client, picture(size=(50, 50)))
    assert response.status_code == 429
    assert "2 pictures in the last hour" in response.get_data(as_text=True)
    assert len(rows(app)) == 2


def test_uploads_and_replacements_have_a_write_budget_per_user(make_app, auth):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_WRITE="3 per minute")
    client = app.test_client()
    type(auth)(client).register()
    type(auth)(client).login()
    small = picture(size=(40, 40))
    first = upload(client, small, json=True)
    statuses = [first.status_code] + [upload(client, small).status_code for _ in range(3)]
    assert statuses == [201, 302, 302, 429]
    replaced = [replace(client, first.json["id"], small).status_code for _ in range(4)]
    assert replaced == [302, 302, 302, 429]
    assert len(rows(app)) == 3


def test_the_storage_quota_counts_every_file_kept(make_app, auth):
    app = make_app(MEDIA_QUOTA_BYTES=15_000)
    client = app.test_client()
    type(auth)(client).register()
    type(auth)(client).login()
    assert upload(client, picture(size=(100, 100))).status_code == 302
    used = rows(app)[0]["bytes"]
    assert used < 15_000
    response = upload(client, picture(size=(1000, 1000)))
    assert response.status_code == 413
    assert "more than the 0.015 MB you have" in response.get_data(as_text=True)
    assert len(rows(app)) == 1


# --- failures leave nothing behind ---------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (StorageFull(28, "no room"), 507, "no room left for pictures"),
        (StorageError(5, "broken"), 503, "cannot be stored just now"),
    ],
)
def test_a_store_failing_midway_leaves_no_file_and_no_row(
    app, author, monkeypatch, error, status, message
):
    with app.app_context():
        store = services.store()
    real_put, calls = store.put, []

    def failing_put(name: str, *args: Any, **kwargs: Any) -> None:
        calls.append(name)
        if len(calls) == 3:
            raise error
        real_put(name, *args, **kwargs)

    monkeypatch.setattr(store, "put", failing_put)
    response = upload(author, picture())
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert len(calls) == 3
    assert rows(app) == [] and rows(app, media_file) == [] and stored(app) == set()


def test_a_database_failure_after_the_files_were_written_removes_them(app, author, monkeypatch):
    def broken(*_args: Any) -> int:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database went away"))

    monkeypatch.setattr(queries, "insert_media", broken)
    with pytest.raises(sa.exc.OperationalError):  # the error page is the app's (a 503)
        upload(author, picture())
    assert stored(app) == set()


def test_only_a_signed_in_request_may_send_a_body_past_max_content_length(app, client):
    # Anyone else gets the site-wide limit at once: no 20 MB is read for a visitor.
    big = picture("PNG", (900, 900), compress_level=0)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, big, filename="big.png")
    assert response.status_code == 413
