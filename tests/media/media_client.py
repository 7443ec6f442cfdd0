"""Uploading and looking at pictures through the test client, for tests/media."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from flaskr.media import services
from flaskr.media.tables import media, media_file


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


def replace(client: FlaskClient, media_id: int, data: bytes):
    response = client.post(
        f"/media/{media_id}/replace",
        data={"picture": (io.BytesIO(data), "new.png")},
        content_type="multipart/form-data",
    )
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


def fetch(client: FlaskClient, path: str) -> Any:
    """GET a file, read it whole and close it (send_file keeps it open until then)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def public_names(app: Flask) -> list[str]:
    return sorted(f["name"] for f in rows(app, media_file) if f["public"])


def original(app: Flask) -> str:
    return next(f["name"] for f in rows(app, media_file) if not f["public"])


def post_page(client: FlaskClient, post_id: int) -> str:
    return client.get(f"/{post_id}", follow_redirects=True).get_data(as_text=True)


def post_with_picture(author: FlaskClient, alt: str = "A red square") -> str:
    markdown = upload(author, picture(size=(2000, 1000)), alt=alt, json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": f"Words first.\n\n{markdown}"})
    author.post("/auth/logout")
    return markdown


def absolute(url: str) -> str:
    return url if "//" in url else "http://localhost" + url


def trash(author: FlaskClient, post_id: int) -> None:
    assert author.post(f"/{post_id}/delete").status_code == 302


def login(client: FlaskClient, name: str, password: str = "a long enough pw") -> None:
    client.post("/auth/logout")
    assert (
        client.post("/auth/login", data={"username": name, "password": password}).status_code == 302
    )
