"""Pictures: the media library (`/media/`), uploads, and the files readers fetch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.media import queries, services
from flaskr.media.names import is_variant_name, parse_key
from flaskr.media.pictures import fallback_name, smallest_name
from flaskr.media.pipeline import EXTENSIONS, MIME_TYPES, accepted_names
from flaskr.media.storage import StorageError, StorageFull
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import authorize, can, public, require
from flaskr.ratelimit import write_limit
from flaskr.security import wants_json
from flaskr.validation import ValidationError

bp = Blueprint("media", __name__, url_prefix="/media")

#: A year: variant names never change meaning (a new upload is a new name).
_FOREVER = 365 * 24 * 3600
#: How wide the library shows each picture (pixels).
THUMB_WIDTH = 160


def markdown_for(row: Any) -> str:
    """The Markdown that shows an upload in a post, with its description."""
    return services.picture_markdown(row["key"], "" if row["decorative"] else row["alt"])


def thumbnails(rows: list[Any]) -> dict[int, str]:
    """The address of each upload's narrowest file (the library's small pictures)."""
    files = queries.public_files(row["id"] for row in rows)
    found = {}
    for row in rows:
        key = parse_key(row["key"])
        own = [(width, EXTENSIONS[fmt]) for width, fmt in files[row["id"]]]
        if key is not None and own:
            found[row["id"]] = services.file_url(smallest_name(key, own))
    return found


def thumb_size(row: Any) -> tuple[int, int]:
    """The width and height the library shows an upload at (its narrowest file)."""
    width = min(row["width"], THUMB_WIDTH)
    return width, max(1, round(row["height"] * width / row["width"]))


@bp.route("/")
@login_required
def library():
    """The signed-in author's pictures (an admin's: everyone's), newest first."""
    require("media:upload")
    everyone = can(g.user, "media:everyone") and request.args.get("everyone") == "1"
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"] * 2
    rows = queries.list_media(
        (number - 1) * per_page, per_page + 1, owner_id=None if everyone else g.user["id"]
    )
    page = existing(make_page(rows, number, per_page))
    used = queries.posts_using(row["id"] for row in page.items)
    return render_template(
        "media/library.html",
        page=page,
        used=used,
        everyone=everyone,
        markdown_for=markdown_for,
        thumbnails=thumbnails(page.items),
        thumb_size=thumb_size,
        formats=accepted_names(),
        max_megabytes=services.megabytes(current_app.config["MEDIA_MAX_BYTES"]),
    )


@bp.route("/", methods=("POST",))
@login_required
@write_limit
def upload():
    """Keep an uploaded picture; say the Markdown that shows it."""
    require("media:upload")
    alt, decorative = request.form.get("alt", ""), request.form.get("decorative") == "1"
    row, refused = _kept(
        lambda data: services.upload(g.user["id"], data, alt=alt, decorative=decorative)
    )
    if refused is not None:
        return refused
    markdown = markdown_for(row)
    if wants_json():
        return jsonify(id=row["id"], key=row["key"], markdown=markdown), 201
    flash(gettext("Uploaded. Paste this into a post to show it: %(markdown)s", markdown=markdown))
    return redirect(url_for("media.library"))


@bp.route("/<int:media_id>/replace", methods=("POST",))
@login_required
@write_limit
def replace(media_id: int):
    """Put a new picture where one was: every post showing it shows the new one."""
    old = authorize("media:manage", queries.find_media(media_id))
    row, refused = _kept(lambda data: services.replace(old["id"], data, by=g.user["id"]))
    if refused is not None:
        return refused
    flash(gettext("Picture replaced: the posts that showed it show the new one."))
    return redirect(url_for("media.library"))


def _kept(keep: Callable[[bytes], Any]) -> tuple[Any, Any]:
    """Run keep(the uploaded file's bytes): (its result, None), or (None, the answer
    refusing the file: the library page or JSON, with the reason and its status)."""
    picture = request.files.get("picture")
    if picture is None or not picture.filename:
        return None, _refused(400, gettext("Choose a picture to upload."))
    data = picture.read()
    picture.close()  # a large one waited in a temporary file
    try:
        return keep(data), None
    except services.LimitReached as error:
        return None, _refused(error.status, str(error))
    except ValidationError as error:
        return None, _refused(400, str(error))
    except StorageFull:
        message = gettext("The server has no room left for pictures. Please tell the site's admin.")
        return None, _refused(507, message)
    except StorageError:
        current_app.logger.exception("could not store a picture")
        message = gettext("Pictures cannot be stored just now. Please try again in a minute.")
        return None, _refused(503, message)


def _refused(status: int, message: str) -> Any:
    if wants_json():
        return jsonify(error=message), status
    flash(message)
    # The library page again (its forms, with the flashed reason), with the error status.
    return library(), status


@bp.errorhandler(413)
def too_large(_error: Exception) -> Any:
    """An upload past MEDIA_MAX_BYTES: say the limit, as a page or to the script."""
    message = gettext(
        "This file is larger than the %(megabytes)s MB a picture may be.",
        megabytes=services.megabytes(current_app.config["MEDIA_MAX_BYTES"]),
    )
    if wants_json():
        return jsonify(error=message), 413
    name = gettext("Request Entity Too Large")
    return render_template("errors/error.html", code=413, name=name, explanation=message), 413


@bp.route("/<int:media_id>/delete", methods=("POST",))
@login_required
def delete(media_id: int):
    """Delete a picture no post shows, with every file made from it."""
    row = authorize("media:manage", queries.find_media(media_id))
    try:
        services.delete(row["id"])
    except services.InUse as error:
        titles = ", ".join(gettext("“%(title)s”", title=post["title"]) for post in error.posts)
        flash(
            gettext(
                "This picture is still shown in: %(titles)s. Remove it from those posts first.",
                titles=titles,
            ),
        )
        return redirect(url_for("media.library"))
    # Files the store would not delete now are left for `flaskr media gc` (logged).
    flash(gettext("Picture deleted."))
    return redirect(url_for("media.library"))


@bp.route("/<name>")
@public
def file(name: str):
    """A picture's file as readers' browsers fetch it (never an original upload)."""
    key = parse_key(name)
    if key is not None:  # the name Markdown uses: the picture at the width pages show
        if queries.find_by_key(name) is None:
            abort(404)
        name = fallback_name(key, services.public_files(key), current_app.config["MEDIA_WIDTHS"])
    if not is_variant_name(name):
        abort(404)
    found = queries.find_file(name)
    if found is None or not found["public"]:  # only files an upload has, never an original
        abort(404)
    store = services.store()
    outside = store.public_url(name)
    if outside is not None:
        return redirect(outside, 301)
    try:
        path = store.path(name, public=True)  # type: ignore[attr-defined]
        response = send_file(
            path,
            mimetype=MIME_TYPES[name.rsplit(".", 1)[1]],
            max_age=_FOREVER,
            conditional=True,
            etag=True,
        )
    except (FileNotFoundError, ValueError):
        abort(404)
    response.headers["Content-Disposition"] = "inline"
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
