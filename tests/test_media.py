"""Pictures through the site: uploading (with and without JavaScript), the library,
serving files, pictures in posts, limits, failures that leave nothing behind, deleting.

Every test runs on both stores: a local folder and an S3 bucket on moto's server.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from s3server import (  # noqa: F401 - the *_fixture functions are the fixtures s3_endpoint, s3_store
    s3_endpoint_fixture,
    s3_settings,
    s3_store_fixture,
)

from flaskr.db import utcnow
from flaskr.media import queries, services
from flaskr.media.storage import StorageError, StorageFull
from flaskr.media.tables import media, media_file, media_use


@pytest.fixture(params=["local", "s3"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The MEDIA_* settings of one store: a folder, or a fresh bucket on moto."""
    if request.param == "local":
        return {}
    endpoint = request.getfixturevalue("s3_endpoint")
    return s3_settings(endpoint, request.getfixturevalue("s3_store").bucket)


@pytest.fixture
def app_config(app_config: dict[str, Any], store_settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **store_settings}


def picture(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt, **save)
    return out.getvalue()


def upload(
    client: FlaskClient,
    data: bytes,
    *,
    alt: str = "A red square",
    filename: str = "photo.jpg",
    decorative: bool = False,
    json: bool = False,
):
    form: dict[str, Any] = {"picture": (io.BytesIO(data), filename), "alt": alt}
    if decorative:
        form["decorative"] = "1"
    headers = {"Accept": "application/json"} if json else {}
    response = client.post(
        "/media/", data=form, content_type="multipart/form-data", headers=headers
    )
    # The test client spools a large body to a temporary file and leaves it open.
    response.request.environ["wsgi.input"].close()
    return response


def stored(app: Flask) -> set[str]:
    """Every file in the store, public or not."""
    with app.app_context():
        store = services.store()
        return set(store.names(public=True)) | set(store.names(public=False))


def rows(app: Flask, table: sa.Table = media) -> list[Any]:
    with app.app_context():
        from flaskr.db import connection

        return list(connection().execute(sa.select(table)).mappings())


@pytest.fixture
def author(client: FlaskClient, auth: Any) -> FlaskClient:
    auth.register()
    auth.login()
    return client


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


def test_a_bomb_claiming_100k_by_100k_pixels_is_refused_quickly(app, author):
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
    started = time.perf_counter()
    response = upload(author, data, filename="bomb.png")
    assert time.perf_counter() - started < 2
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


# --- serving -------------------------------------------------------------------


def fetch(client: FlaskClient, path: str) -> Any:
    """GET a file, read it whole and close it (send_file keeps it open until then)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def _public_names(app: Flask) -> list[str]:
    return sorted(f["name"] for f in rows(app, media_file) if f["public"])


def _original(app: Flask) -> str:
    return next(f["name"] for f in rows(app, media_file) if not f["public"])


def test_files_are_served_as_pictures_for_a_year_and_originals_never(app, author, store_settings):
    upload(author, picture())
    author.post("/auth/logout")
    for name in _public_names(app):
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
    assert fetch(author, f"/media/{_original(app)}").status_code == 404


@pytest.mark.parametrize("store_settings", [{}])  # the local store: object stores serve files
def test_a_signed_in_reader_gets_the_same_cacheable_file(app, author, store_settings):
    upload(author, picture())
    response = fetch(author, f"/media/{_public_names(app)[0]}")
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
        for name in _public_names(app):
            served = store.get(name, public=True)
            assert served is not None
            assert b"Camera maker" not in served and b"Exif" not in served
            assert not Image.open(io.BytesIO(served)).getexif()


# --- pictures in posts -----------------------------------------------------------


def _post_page(client: FlaskClient, post_id: int) -> str:
    return client.get(f"/{post_id}", follow_redirects=True).get_data(as_text=True)


def test_a_post_shows_its_pictures_with_srcset_and_size_and_lazy_after_the_first(app, author):
    markdown = upload(author, picture(size=(2000, 1000)), json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": f"{markdown}\n\ntext\n\n{markdown}"})
    page = _post_page(author, 1)
    first, second = re.findall(r"<img [^>]*>", page)[:2]
    key = rows(app)[0]["key"]
    token = key.rsplit("-", 1)[0]
    with app.app_context():
        url = services.file_url
        assert f'src="{url(token + "-1600.jpg")}"' in first
        assert (
            f'srcset="{url(token + "-480.webp")} 480w, {url(token + "-960.webp")} 960w, '
            f'{url(token + "-1600.webp")} 1600w"' in first
        )
    assert 'alt="A red square"' in first and 'width="2000" height="1000"' in first
    assert 'sizes="' in first and 'loading="lazy"' not in first
    assert 'loading="lazy"' in second


def test_another_sites_picture_is_a_link_saying_so(author):
    author.post("/create", data={"title": "Ext", "body": "![a cat](https://cats.example/cat.png)"})
    page = _post_page(author, 1)
    assert "<img" not in page.split('class="body"', 1)[1].split("</article>")[0]
    assert "Picture from another site, not shown:" in page
    assert 'href="https://cats.example/cat.png"' in page


def test_a_post_records_which_pictures_it_shows(app, author):
    one = upload(author, picture(), json=True).json
    two = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Pics", "body": one["markdown"]})
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(one["id"], 1)]
    author.post(
        "/1/update", data={"title": "Pics", "body": two["markdown"] + " " + one["markdown"]}
    )
    assert sorted((u["media_id"], u["post_id"]) for u in rows(app, media_use)) == [
        (one["id"], 1),
        (two["id"], 1),
    ]


# --- deleting ------------------------------------------------------------------


def test_a_picture_in_use_is_not_deleted_and_the_posts_are_named(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Holiday", "body": shown["markdown"]})
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "still shown in: “Holiday”" in response.get_data(as_text=True)
    assert len(rows(app)) == 1 and len(stored(app)) == 7
    author.post("/1/update", data={"title": "Holiday", "body": "no picture now"})
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "Picture deleted." in response.get_data(as_text=True)
    assert rows(app) == [] and rows(app, media_file) == [] and stored(app) == set()


def test_only_the_owner_or_an_admin_deletes_a_picture(app, author, make_user, auth):
    shown = upload(author, picture(), json=True).json
    make_user("bob", role="author")
    make_user("ada", role="admin")
    author.post("/auth/logout")
    auth.login("bob", "a long enough pw")
    assert author.post(f"/media/{shown['id']}/delete").status_code == 403
    assert "A red square" not in author.get("/media/").get_data(as_text=True)
    author.post("/auth/logout")
    auth.login("ada", "a long enough pw")
    assert "A red square" in author.get("/media/?everyone=1").get_data(as_text=True)
    assert author.post(f"/media/{shown['id']}/delete").status_code == 302
    assert rows(app) == []


def test_deleting_an_account_deletes_its_pictures_files(app, author, client):
    upload(author, picture())
    assert stored(app)
    author.post("/auth/account/delete", data={"password": "test"})
    assert rows(app) == [] and stored(app) == set()


def test_gc_removes_files_no_upload_names_and_keeps_the_rest(app, author, runner):
    upload(author, picture())
    kept = stored(app)
    with app.app_context():
        services.store().put("B" * 22 + "-480.webp", b"orphan", "image/webp", public=True)
        services.store().put("C" * 22 + ".jpg", b"orphan", "image/jpeg", public=False)
    result = runner.invoke(args=["media", "gc", "--grace", "0"])
    assert result.exit_code == 0 and "Deleted 2 orphaned files." in result.output
    assert stored(app) == kept


def test_rebuild_makes_the_widths_the_settings_now_ask_for(app, author, make_app):
    markdown = upload(author, picture(size=(1200, 600)), json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": markdown})
    assert " 960w" in _post_page(author, 1)
    rebuilt = make_app(MEDIA_WIDTHS=(300,))
    result = rebuilt.test_cli_runner().invoke(args=["media", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt 1 pictures." in result.output
    names = _public_names(rebuilt)
    widths = sorted({int(n.rsplit("-", 1)[1].split(".")[0]) for n in names})
    assert widths == [300, 1200]
    assert stored(rebuilt) == set(names) | {_original(rebuilt)}
    assert rows(rebuilt)[0]["bytes"] == sum(f["bytes"] for f in rows(rebuilt, media_file))
    # Posts list the new widths (their stored HTML is rendered again).
    reader = rebuilt.test_client()
    page = _post_page(reader, 1)
    assert " 300w" in page and " 960w" not in page


# --- everywhere pictures appear --------------------------------------------------


def _post_with_picture(author: FlaskClient, alt: str = "A red square") -> str:
    markdown = upload(author, picture(size=(2000, 1000)), alt=alt, json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": f"Words first.\n\n{markdown}"})
    author.post("/auth/logout")
    return markdown


def _absolute(url: str) -> str:
    return url if "//" in url else "http://localhost" + url


def test_a_post_page_names_its_first_picture_for_link_previews(app, author):
    _post_with_picture(author, alt='Sunset "over" sea')
    page = _post_page(author, 1)
    src = re.search(r'<img src="([^"]+)"', page)[1]
    assert f'<meta property="og:image" content="{_absolute(src)}">' in page
    assert '<meta property="og:image:alt" content="Sunset &#34;over&#34; sea">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta name="twitter:image" content="{_absolute(src)}">' in page


def test_a_post_without_pictures_names_none(author):
    author.post("/create", data={"title": "Words", "body": "only words"})
    page = _post_page(author, 1)
    assert "og:image" not in page and '<meta name="twitter:card" content="summary">' in page


def test_feeds_carry_pictures_with_absolute_addresses_and_their_description(app, author):
    _post_with_picture(author)
    page = _post_page(author, 1)
    src = _absolute(re.search(r'<img src="([^"]+)"', page)[1])
    atom = author.get("/feed.atom").get_data(as_text=True)
    assert f'<link rel="enclosure" href="{src}" type="image/jpeg" />' in atom
    # In the content: absolute src and srcset, and the alt text kept.
    assert f'&lt;img src="{src}" alt="A red square"' in atom
    assert 'srcset="/media' not in atom and ", /media/" not in atom
    rss = author.get("/feed.rss").get_data(as_text=True)
    assert f'<media:content url="{src}" type="image/jpeg" medium="image">' in rss
    assert '<media:description type="plain">A red square</media:description>' in rss
    feed = author.get("/feed.json").json
    assert feed["items"][0]["image"] == src
    assert 'alt="A red square"' in feed["items"][0]["content_html"]


# --- pictures and the trash ------------------------------------------------------


def _trash(author: FlaskClient, post_id: int) -> None:
    assert author.post(f"/{post_id}/delete").status_code == 302


def test_a_picture_only_a_trashed_post_shows_is_kept_for_it(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Holiday", "body": shown["markdown"]})
    _trash(author, 1)
    assert rows(app, media_use) == []  # no live post shows it...
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "still shown in: “Holiday”" in response.get_data(as_text=True)  # ...but one may again
    assert len(rows(app)) == 1
    author.post("/me/trash/1/restore")
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]


def test_a_post_deleted_for_good_takes_the_pictures_only_it_showed(app, author):
    alone = upload(author, picture(), json=True).json
    shared = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Gone", "body": alone["markdown"] + shared["markdown"]})
    author.post("/create", data={"title": "Stays", "body": shared["markdown"]})
    _trash(author, 1)
    assert len(rows(app)) == 2  # in the trash, it may come back
    author.post("/me/trash/1/delete")
    assert [r["id"] for r in rows(app)] == [shared["id"]]
    assert len(stored(app)) == 7  # the shared picture's files alone


def test_without_a_trash_deleting_a_post_deletes_its_unused_pictures(app, author, make_app):
    no_trash = make_app(TRASH_DAYS=0)
    client = no_trash.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})
    shown = upload(client, picture(), json=True).json
    client.post("/create", data={"title": "Gone", "body": shown["markdown"]})
    _trash(client, 1)
    assert rows(app) == [] and stored(app) == set()


def test_pages_may_load_pictures_from_the_object_store_and_nowhere_else(client, store_settings):
    csp = client.get("/").headers["Content-Security-Policy"]
    if store_settings:
        bucket = f"{store_settings['MEDIA_S3_ENDPOINT_URL']}/{store_settings['MEDIA_S3_BUCKET']}"
        assert csp.endswith(f"; img-src 'self' {bucket}/public/")  # not the whole host
    else:
        assert "img-src" not in csp  # default-src 'self': this site only
    assert "default-src 'self'" in csp


# --- covers ----------------------------------------------------------------------


def test_a_cover_picture_is_shown_above_the_post_in_lists_and_link_previews(app, author):
    shown = upload(author, picture(size=(2000, 1000)), alt="A red field", json=True).json
    key = shown["key"]
    response = author.post(
        "/create", data={"title": "Covered", "body": "Just words.", "cover": f"/media/{key}"}
    )
    assert response.status_code == 302
    # Kept as Markdown with the upload's own description; the picture is in use.
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["cover"] == f"![A red field](/media/{key})"
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]
    author.post("/auth/logout")
    page = _post_page(author, 1)
    cover = re.search(r'<figure class="cover">(<img [^>]*>)</figure>', page)[1]
    assert 'alt="A red field"' in cover and "srcset=" in cover and 'loading="lazy"' not in cover
    src = re.search(r'src="([^"]+)"', cover)[1]
    assert f'<meta property="og:image" content="{_absolute(src)}">' in page
    listed = author.get("/").get_data(as_text=True)
    assert re.search(
        r'<figure class="cover"><img [^>]*alt="A red field"[^>]* loading="lazy">', listed
    )
    feed = author.get("/feed.json").json["items"][0]
    assert feed["image"] == _absolute(src)
    assert feed["content_html"].startswith("<p><img ")


def test_the_cover_takes_the_description_written_and_keeps_when_the_form_has_no_field(app, author):
    shown = upload(author, picture(), json=True).json
    author.post(
        "/create",
        data={"title": "Covered", "body": "b", "cover": f"![My own words](/media/{shown['key']})"},
    )
    author.post("/1/update", data={"title": "Covered", "body": "tutorial form, no cover field"})
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["cover"] == f"![My own words](/media/{shown['key']})"
    author.post("/1/update", data={"title": "Covered", "body": "b", "cover": "", "version": "2"})
    with app.app_context():
        assert blog_queries.find_post(1)["cover"] is None
    assert rows(app, media_use) == []


@pytest.mark.parametrize(
    "cover",
    ["https://elsewhere.example/a.jpg", "/media/AAAAAAAAAAAAAAAAAAAAAA-10x10.jpg", "just words"],
)
def test_a_cover_that_is_no_upload_is_refused_with_the_form_kept(app, author, cover):
    response = author.post("/create", data={"title": "Covered", "body": "kept", "cover": cover})
    assert response.status_code == 200  # the editor again, as for every refused save
    page = response.get_data(as_text=True)
    assert "paste the Markdown or the address of one of the pictures" in page
    assert "kept" in page
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1) is None


# --- replacing -------------------------------------------------------------------


def replace(client: FlaskClient, media_id: int, data: bytes):
    response = client.post(
        f"/media/{media_id}/replace",
        data={"picture": (io.BytesIO(data), "new.png")},
        content_type="multipart/form-data",
    )
    response.request.environ["wsgi.input"].close()
    return response


def test_replacing_a_picture_shows_the_new_one_in_every_post_as_a_new_version(
    app, author, make_user, auth
):
    old = upload(author, picture(size=(1200, 800)), alt="The old one", json=True).json
    author.post("/create", data={"title": "One", "body": f"a {old['markdown']}"})
    author.post("/create", data={"title": "Two", "body": "b", "cover": old["markdown"]})
    old_files = stored(app)
    response = replace(author, old["id"], picture("PNG", (600, 300)))
    assert response.status_code == 302
    (row,) = rows(app)
    assert row["id"] == old["id"] and row["alt"] == "The old one"
    assert row["key"] != old["key"] and row["key"].endswith("-600x300.png")
    # The old files are gone, the new ones kept under new names (the old are cached).
    assert stored(app).isdisjoint(old_files) and len(stored(app)) == 5
    with app.app_context():
        from flaskr.blog import queries as blog_queries
        from flaskr.history import queries as history_queries

        one, two = blog_queries.find_post(1), blog_queries.find_post(2)
        assert one["body"] == f"a ![The old one](/media/{row['key']})"
        assert two["cover"] == f"![The old one](/media/{row['key']})"
        assert one["version"] == 2 and one["saved_by"] == 1
        assert history_queries.count_revisions(1) == 1  # the old text is in the history
    assert sorted(u["post_id"] for u in rows(app, media_use)) == [1, 2]
    assert 'width="600" height="300"' in _post_page(author, 1)


def test_a_replacement_that_is_no_picture_changes_nothing(app, author):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    before = stored(app)
    response = replace(author, old["id"], b"<svg onload=alert(1)>")
    assert response.status_code == 400
    assert "web page or script" in response.get_data(as_text=True)
    assert rows(app)[0]["key"] == old["key"] and stored(app) == before


def test_only_the_owner_or_an_admin_replaces_a_picture(app, author, make_user, auth):
    old = upload(author, picture(), json=True).json
    make_user("bob", role="editor")
    author.post("/auth/logout")
    auth.login("bob", "a long enough pw")
    assert replace(author, old["id"], picture("PNG")).status_code == 403
    assert rows(app)[0]["key"] == old["key"]


def test_a_picture_a_trashed_post_shows_is_not_replaced(app, author):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    _trash(author, 1)
    response = replace(author, old["id"], picture("PNG"))
    assert response.status_code == 400
    assert "A post in the trash shows this picture" in response.get_data(as_text=True)
    assert rows(app)[0]["key"] == old["key"]


@pytest.mark.parametrize(
    "source",
    ["https://cdn.example/x; script-src *", "https://a b.example/", "javascript:x", "'self'"],
)
def test_an_address_that_would_change_the_policy_is_refused_at_start(app, source):
    from flaskr import security

    with pytest.raises(ValueError, match="Content-Security-Policy"):
        security.allow_images_from(app, source)


def test_only_a_signed_in_request_may_send_a_body_past_max_content_length(app, client):
    # Anyone else gets the site-wide limit at once: no 20 MB is read for a visitor.
    big = picture("PNG", (900, 900), compress_level=0)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, big, filename="big.png")
    assert response.status_code == 413


# --- whose pictures a post may hold on to ---------------------------------------------


def _login(client: FlaskClient, name: str, password: str = "a long enough pw") -> None:
    client.post("/auth/logout")
    assert (
        client.post("/auth/login", data={"username": name, "password": password}).status_code == 302
    )


def test_another_authors_post_never_holds_or_takes_ones_picture(app, author, make_user):
    alices = upload(author, picture(), json=True).json  # "test" is alice here
    make_user("bob", role="author")
    _login(author, "bob")
    author.post("/create", data={"title": "Bob's", "body": alices["markdown"]})
    assert rows(app, media_use) == []  # shown, but not hers in use
    _trash(author, 1)
    author.post("/me/trash/1/delete")  # gone for good: her picture is not his to take
    assert [r["id"] for r in rows(app)] == [alices["id"]]
    # And while his post shows it, she still decides: she may delete it.
    _login(author, "bob")
    author.post("/create", data={"title": "Bob's again", "body": alices["markdown"]})
    _login(author, "test", "test")
    assert author.post(f"/media/{alices['id']}/delete").status_code == 302
    assert rows(app) == []


def test_a_picture_written_with_escapes_is_still_in_use(app, author):
    shown = upload(author, picture(), json=True).json
    escaped = shown["markdown"].replace(".jpg)", "&#46;jpg)").replace("-", "\\-", 1)
    author.post("/create", data={"title": "Escaped", "body": escaped})
    page = _post_page(author, 1)
    assert "srcset=" in page  # the page shows it...
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]


def test_a_description_ending_in_a_backslash_still_shows_the_picture(app, author):
    shown = upload(author, picture(), alt="a path C:\\photos\\", json=True).json
    author.post("/create", data={"title": "Slash", "body": shown["markdown"]})
    assert 'alt="a path C:\\photos\\"' in _post_page(author, 1)


def test_the_preview_says_which_pictures_lack_a_description_or_are_elsewhere(app, author):
    described = upload(author, picture(), json=True).json
    bare = upload(author, picture(), alt="ignored", json=True).json
    decorative = upload(author, picture(), alt="", decorative=True, json=True).json
    body = "\n\n".join(
        [
            described["markdown"],
            f"![](/media/{bare['key']})",
            decorative["markdown"],
            "![a cat](https://cats.example/cat.png)",
        ]
    )
    preview = author.post("/preview", data={"body": body}).get_data(as_text=True)
    hints = re.findall(r'<p class="picture-hint" role="note">(.*?)</p>', preview)
    assert hints == [
        f"The picture /media/{bare['key']} has no description: write what it shows "
        "between the square brackets.",
        "https://cats.example/cat.png is on another site: readers will see a link, "
        "not the picture. Upload it instead.",
    ]


def test_a_preview_of_pathological_brackets_is_refused_quickly(author):
    started = time.perf_counter()
    response = author.post("/preview", data={"body": "![" * 50_000})
    assert response.status_code == 400
    assert time.perf_counter() - started < 3


def test_an_admin_giving_away_an_accounts_posts_gives_its_pictures_too(app, author, make_user):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Kept", "body": shown["markdown"]})
    make_user("ada", role="admin")
    make_user("heir", role="author")
    _login(author, "ada")
    response = author.post("/admin/users/1/delete", data={"posts": "reassign", "heir": "heir"})
    assert response.status_code == 302
    (row,) = rows(app)
    assert row["owner_id"] == 3 and len(stored(app)) == 7


def test_the_trash_emptied_after_trash_days_takes_its_pictures(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Old", "body": shown["markdown"]})
    _trash(author, 1)
    with app.app_context():
        from flaskr.db import transaction
        from flaskr.trash import services as trash
        from flaskr.trash.tables import post_trash

        with transaction() as conn:
            conn.execute(sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=31)))
        assert trash.purge_expired() == 1
    assert rows(app) == [] and stored(app) == set()


def test_a_replacement_by_an_admin_is_saved_in_the_posts_by_the_admin(app, author, make_user):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    ada = make_user("ada", role="admin")
    _login(author, "ada")
    assert replace(author, old["id"], picture("PNG", (300, 200))).status_code == 302
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["saved_by"] == ada


def test_a_rebuild_that_cannot_remake_one_picture_goes_on_and_says_so(app, author, make_app):
    large = upload(author, picture(size=(1200, 600)), json=True).json
    upload(author, picture(size=(100, 100)))
    author.post("/create", data={"title": "Pics", "body": large["markdown"]})
    before = {f["name"] for f in rows(app, media_file) if f["media_id"] == large["id"]}
    rebuilt = make_app(MEDIA_MAX_PIXELS=100_000, MEDIA_WIDTHS=(50,))
    result = rebuilt.test_cli_runner().invoke(args=["media", "rebuild"])
    assert result.exit_code == 1
    assert f"Picture {large['id']}: This picture is 1200 x 600 pixels" in result.output
    assert "Rebuilt 1 pictures." in result.output
    # The one not remade keeps every file; the post's page still finds them.
    assert before <= stored(app)
    assert " 960w" in _post_page(rebuilt.test_client(), 1)
