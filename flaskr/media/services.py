"""The rules for pictures: what may be uploaded, how it is kept, when it may go."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import gettext

from flaskr import markup
from flaskr.db import transaction, utcnow
from flaskr.media import pictures, pipeline, queries
from flaskr.media.names import Key, new_token, parse_key
from flaskr.media.storage import StorageError, Store
from flaskr.media.tables import ALT_MAX
from flaskr.trash import queries as trash_queries
from flaskr.validation import ValidationError, require_text


class LimitReached(ValidationError):
    """An upload past the account's hourly count or storage quota."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class InUse(ValidationError):
    """A picture that posts still show cannot be deleted; `posts` says which."""

    def __init__(self, posts: list[Any]) -> None:
        super().__init__(
            gettext("This picture is still shown in a post. Remove it from the post first.")
        )
        self.posts = posts


def store() -> Store:
    """The store this app keeps pictures in (see media.storage.open_store)."""
    return current_app.extensions["flaskr.media_store"]


def megabytes(size: int) -> str:
    """A size in (decimal) megabytes as pages say it: 20, 0.5."""
    return f"{size / 1e6:.3g}"


def public_files(key: Key) -> pictures.Files:
    """The files readers may fetch of the upload with this key: (width, extension)."""
    return [
        (width, pipeline.EXTENSIONS[fmt]) for width, fmt in queries.public_files_by_key(str(key))
    ]


def file_url(name: str) -> str:
    """Where browsers fetch a public file: the object store's address, or flaskr's own."""
    return store().public_url(name) or f"/media/{name}"


def clean_alt(alt: str, decorative: bool) -> str:
    """The alt text as kept: required (one line, ALT_MAX at most) unless decorative."""
    if decorative:
        return ""
    alt = require_text(alt, gettext("Description"), max_len=ALT_MAX, required=False).strip()
    if not alt:
        raise ValidationError(
            gettext("Describe the picture for people who cannot see it, or mark it as decorative.")
        )
    return alt


def upload(owner_id: int, data: bytes, *, alt: str, decorative: bool) -> dict[str, Any]:
    """Check, clean and keep an uploaded picture with its widths; the new row.

    Refused with a sentence (ValidationError) for anything but a picture flaskr
    accepts, a missing description, or past the account's limits. The files are
    written before the row naming them, and removed again if anything fails: no
    row ever points at a missing file, and no failed upload leaves files.
    """
    alt = clean_alt(alt, decorative)
    now = utcnow()
    _check_limits(owner_id, len(data), now)
    stored = _store_files(owner_id, data)
    values = {
        "owner_id": owner_id,
        **stored.values,
        "alt": alt,
        "decorative": decorative,
        "created_at": now,
    }
    try:
        with transaction():
            media_id = queries.insert_media(values, stored.rows)
    except BaseException:
        _remove(stored.kept)
        raise
    return {**values, "id": media_id}


def replace(media_id: int, data: bytes, *, by: int) -> dict[str, Any]:
    """Put a new picture where an upload was: every post showing it shows the new one
    (each a new version in its history, saved by `by`), with the same description.

    The new picture gets new names: the old ones are cached as they were for a year.
    Refused while a post in the trash shows it (restoring that would show nothing).
    """
    row = queries.find_media(media_id)
    if row is None:
        raise ValidationError(gettext("That picture no longer exists."))
    _refuse_while_trashed(row)
    stored = _store_files(row["owner_id"], data, freed=row["bytes"])
    # Imported here: the blog's services record which pictures posts show (this module).
    from flaskr.blog import services as blog_services

    try:
        with transaction():
            # Locked, then checked again: a replace or delete that finished meanwhile
            # changed what the posts show.
            current = queries.find_media(media_id, for_update=True)
            if current is None or current["key"] != row["key"]:
                raise ValidationError(
                    gettext("The picture was changed meanwhile. Look again, then replace it.")
                )
            _refuse_while_trashed(current)
            before = queries.file_names(media_id)
            queries.replace_files(media_id, stored.values, stored.rows)
            for post_id in queries.post_ids_using(media_id):
                blog_services.swap_picture(
                    post_id, f"/media/{row['key']}", f"/media/{stored.values['key']}", by=by
                )
    except BaseException:
        _remove(stored.kept)
        raise
    _remove((file["name"], file["public"]) for file in before)
    return {**row, **stored.values}


def _refuse_while_trashed(row: Any) -> None:
    if trash_queries.trashed_showing(row["owner_id"], f"/media/{row['key']}"):
        raise ValidationError(
            gettext(
                "A post in the trash shows this picture. Restore it or delete it for good, "
                "then replace the picture."
            )
        )


@dataclass
class _Stored:
    """The files of one upload, written: what its row says of them, and their names."""

    values: dict[str, Any]  # key, format, width, height, frames, bytes
    rows: list[dict[str, Any]]  # one per file, for media_file
    kept: list[tuple[str, bool]]  # (name, public), to remove if the row is not written


def _store_files(owner_id: int, data: bytes, *, freed: int = 0) -> _Stored:
    """Check a picture, store its original, make and store its widths; every file is
    removed again if anything fails. `freed`: bytes of the account's quota this
    upload gives back (a replaced picture's)."""
    config = current_app.config
    found = pipeline.probe(data, max_pixels=config["MEDIA_MAX_PIXELS"])
    token = new_token()
    original = f"{token}.{found.extension}"
    kept: list[tuple[str, bool]] = []
    try:
        # The original first: what the widths are made from is already safe.
        store().put(original, data, found.mime, public=False)
        kept.append((original, False))
        made = pipeline.variants(data, found, config["MEDIA_WIDTHS"])
        full = max(made, key=lambda variant: variant.width)  # upright: the size pages show
        key = Key(token, full.width, full.height, found.extension)
        rows: list[dict[str, Any]] = [
            {
                "name": original,
                "public": False,
                "format": found.format,
                "width": full.width,
                "bytes": len(data),
            },
        ] + _variant_rows(key, made)
        total = sum(row["bytes"] for row in rows)
        _check_quota(owner_id, total - freed)
        for row, variant in zip(rows[1:], made, strict=True):
            store().put(row["name"], variant.data, variant.mime, public=True)
            kept.append((row["name"], True))
    except BaseException:
        _remove(kept)
        raise
    values = {
        "key": str(key),
        "format": found.format,
        "width": full.width,
        "height": full.height,
        "frames": found.frames,
        "bytes": total,
    }
    return _Stored(values, rows, kept)


def _check_limits(owner_id: int, size: int, now: Any) -> None:
    config = current_app.config
    per_hour = config["MEDIA_UPLOADS_PER_HOUR"]
    if per_hour and queries.count_since(owner_id, now - timedelta(hours=1)) >= per_hour:
        raise LimitReached(
            gettext(
                "You have uploaded %(count)d pictures in the last hour, the most allowed. "
                "Please wait a while.",
                count=per_hour,
            ),
            status=429,
        )
    _check_quota(owner_id, size)


def _check_quota(owner_id: int, size: int) -> None:
    quota = current_app.config["MEDIA_QUOTA_BYTES"]
    if quota and queries.bytes_used(owner_id) + size > quota:
        raise LimitReached(
            gettext(
                "Your pictures would take more than the %(megabytes)s MB you have. "
                "Delete some you no longer use.",
                megabytes=megabytes(quota),
            ),
            status=413,
        )


def _remove(names: Iterable[tuple[str, bool]]) -> None:
    """Delete stored files, as far as the store lets us (gc finds what is left)."""
    for name, public in names:
        try:
            store().delete(name, public=public)
        except StorageError:
            current_app.logger.warning("could not delete stored picture %s", name)


def delete(media_id: int) -> None:
    """Delete an upload and its files; InUse (with the posts) while one of its owner's
    posts shows it, or one in the trash (restoring it would show a picture that is gone)."""
    with transaction():
        row = queries.find_media(media_id, for_update=True)  # one delete or replace at a time
        if row is None:
            return
        showing = queries.posts_using([media_id])[media_id]
        showing += trash_queries.trashed_showing(row["owner_id"], f"/media/{row['key']}")
        if showing:
            raise InUse(posts=showing)
        files = queries.file_names(media_id)
        queries.delete_media(media_id)
    _remove((file["name"], file["public"]) for file in files)


def delete_unused(author_id: int, *texts: str) -> int:
    """Delete the uploads of `author_id` these texts (their posts, gone for good) showed
    that nothing else shows any more; how many went. Others' pictures are never touched."""
    deleted = 0
    for media_id in queries.ids_for_keys(keys_in(*texts), owner_id=author_id):
        try:
            delete(media_id)
        except InUse:
            continue  # another post shows it too: it stays
        deleted += 1
    return deleted


def owner_files(owner_id: int) -> list[tuple[str, bool]]:
    """Every stored file of an account's uploads: read before the account is deleted,
    removed with remove_files() once it is."""
    return [(row["name"], row["public"]) for row in queries.owner_file_names(owner_id)]


def give_pictures(from_id: int, to_id: int) -> None:
    """Make one account's uploads another's (its posts went to them)."""
    queries.reassign_media(from_id, to_id)


def remove_files(files: Iterable[tuple[str, bool]]) -> None:
    """Delete stored files whose rows are gone (an account's, after it was deleted)."""
    _remove(files)


def clean_cover(text: str) -> str | None:
    """A post's cover as kept: ![alt](/media/KEY) for one existing upload, from its
    Markdown, its address or its key (None: no cover). The alt is the one written,
    else the upload's own description."""
    text = require_text(
        text, gettext("Cover picture"), max_len=ALT_MAX + 200, required=False
    ).strip()
    if not text:
        return None
    written = markup.images(text)  # ![alt](address): as the page would read it
    address = written[0].src if written else text
    key = urlsplit(address).path.removeprefix("/media/")
    row = queries.find_by_key(key) if parse_key(key) else None
    if row is None:
        raise ValidationError(
            gettext(
                "For the cover, paste the Markdown or the address of one of the pictures "
                "on your pictures page."
            )
        )
    return picture_markdown(key, (written[0].alt.strip() if written else "") or row["alt"])


def picture_markdown(key: str, alt: str) -> str:
    """The Markdown that shows an upload, with its description (backslashes and
    brackets escaped, so the description cannot end the Markdown early)."""
    escaped = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{escaped}](/media/{key})"


def keys_in(*texts: str) -> set[str]:
    """The uploads these Markdown texts show, by key (read as the pages read them)."""
    keys = set()
    for text in texts:
        try:
            found = markup.images(text)
        except markup.TooComplexError:
            continue  # stored past the budget: shown as plain text, so no picture
        for image in found:
            key = urlsplit(image.src).path.removeprefix("/media/")
            if image.kind == "own-file" and parse_key(key) is not None:
                keys.add(key)
    return keys


def picture_hints(text: str) -> list[str]:
    """What the editor tells an author about the pictures in their Markdown: one
    without a description (unless uploaded as decorative), one from another site."""
    found = markup.images(text)
    decorative = queries.decorative_keys(keys_in(text)) if found else set()
    hints = []
    for image in found:
        if image.kind == "foreign":
            hints.append(
                gettext(
                    "%(address)s is on another site: readers will see a link, not the "
                    "picture. Upload it instead.",
                    address=image.src,
                )
            )
        elif (
            not image.alt.strip()
            and urlsplit(image.src).path.removeprefix("/media/") not in decorative
        ):
            hints.append(
                gettext(
                    "The picture %(address)s has no description: write what it shows "
                    "between the square brackets.",
                    address=image.src,
                )
            )
    return hints


def record_uses(post_id: int, author_id: int, *texts: str) -> None:
    """Record which of its author's uploads a post shows (inside the transaction saving
    it). Another account's picture may be shown, but never counts as theirs in use:
    no post of someone else's keeps an owner from deleting or replacing a picture."""
    queries.set_uses(post_id, queries.ids_for_keys(keys_in(*texts), owner_id=author_id))


def init_app(app: Flask) -> None:
    """Open the picture store, teach Markdown to show its pictures, let uploads be
    larger than other requests, and let pages load pictures from an object store."""
    from flaskr import security
    from flaskr.media.storage import open_store

    app.extensions["flaskr.media_store"] = opened = open_store(app.config, app.instance_path)
    widths = tuple(app.config["MEDIA_WIDTHS"])

    def picture(src: str) -> dict[str, str] | None:
        # Asked when a post is rendered (its HTML is kept), never per page view.
        key = parse_key(urlsplit(src).path.removeprefix("/media/"))
        files = public_files(key) if key is not None else []
        return pictures.attributes(key, files, widths, file_url) if key and files else None

    app.extensions["flaskr.pictures"] = picture
    if opened.origin():
        # The folder the public files are in, not the whole host: on a shared S3
        # endpoint, no other bucket's pictures.
        sample = opened.public_url(f"{new_token()}.png") or ""
        security.allow_images_from(app, sample.rsplit("/", 1)[0] + "/")
    # The form around the file: its other fields and the multipart framing.
    security.allow_larger_body(
        app, r"/media/(?:[0-9]+/replace)?", app.config["MEDIA_MAX_BYTES"] + 64 * 1024
    )


def rebuild(media_id: int) -> list[tuple[str, bool]] | None:
    """Make an upload's widths again from its original, as MEDIA_WIDTHS now asks; the
    files no longer wanted, for remove_files() once posts no longer name them (None:
    its original is gone). ImageRefused or StorageError when it cannot be remade."""
    row = queries.find_media(media_id)
    if row is None:
        return []
    key = parse_key(row["key"])
    assert key is not None  # noqa: S101 - every stored key was made by upload()  # nosec B101
    original = store().get(key.original(), public=False)
    if original is None:
        return None
    found = pipeline.probe(original, max_pixels=current_app.config["MEDIA_MAX_PIXELS"])
    made = pipeline.variants(original, found, current_app.config["MEDIA_WIDTHS"])
    rows = _variant_rows(key, made)
    for variant_row, variant in zip(rows, made, strict=True):
        store().put(variant_row["name"], variant.data, variant.mime, public=True)
    wanted = {r["name"] for r in rows}
    with transaction():
        current = queries.find_media(media_id, for_update=True)
        if current is None or current["key"] != row["key"]:
            return []  # replaced or deleted meanwhile: what was written is gc's
        before = queries.file_names(media_id)
        queries.replace_variants(media_id, rows, len(original) + sum(r["bytes"] for r in rows))
    return [(r["name"], True) for r in before if r["public"] and r["name"] not in wanted]


def _variant_rows(key: Key, made: list[pipeline.Variant]) -> list[dict[str, Any]]:
    """The media_file rows of an upload's public files."""
    return [
        {
            "name": key.variant(v.width, pipeline.EXTENSIONS[v.format]),
            "public": True,
            "format": v.format,
            "width": v.width,
            "bytes": len(v.data),
        }
        for v in made
    ]


def orphans() -> list[tuple[str, bool]]:
    """Stored files no upload names (left by a crash, or a failed delete)."""
    known = queries.all_file_names()
    return [
        (name, public)
        for public in (True, False)
        for name in store().names(public=public)
        if name not in known
    ]


def collect_garbage(grace_seconds: float) -> int:
    """Delete stored files no upload names; how many went.

    An upload writes its files before its row: a file that looks orphaned may belong
    to one still being made. Only files orphaned both before and after the grace
    period are deleted.
    """
    first = set(orphans())
    if grace_seconds > 0 and first:
        time.sleep(grace_seconds)
    gone = first & set(orphans())
    _remove(gone)
    return len(gone)
