"""SQL for pictures: the uploads, their stored files, and the posts that show them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.media.tables import media, media_file, media_use


def find_media(media_id: int, *, for_update: bool = False) -> RowMapping | None:
    """One upload, or None; for_update locks it until the transaction ends."""
    query = sa.select(media).where(media.c.id == media_id)
    if for_update:
        query = query.with_for_update()
    return connection().execute(query).mappings().first()


def find_by_key(key: str) -> RowMapping | None:
    """The upload Markdown names by key, or None."""
    return connection().execute(sa.select(media).where(media.c.key == key)).mappings().first()


def find_file(name: str) -> RowMapping | None:
    """A stored file by name (with its upload's key), or None."""
    return (
        connection().execute(sa.select(media_file).where(media_file.c.name == name)).mappings()
    ).first()


def list_media(offset: int, limit: int, *, owner_id: int | None) -> Sequence[RowMapping]:
    """A page of uploads, newest first (one owner's, or everyone's for None), with the
    uploader's name and how many posts show each."""
    uses = (
        sa.select(sa.func.count())
        .select_from(media_use)
        .where(media_use.c.media_id == media.c.id)
        .scalar_subquery()
    )
    query = (
        sa.select(media, user.c.username.label("owner_name"), uses.label("uses"))
        .join(user, user.c.id == media.c.owner_id)
        .order_by(media.c.created_at.desc(), media.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(media.c.owner_id == owner_id)
    return connection().execute(query).mappings().all()


def posts_using(media_ids: Iterable[int]) -> dict[int, list[RowMapping]]:
    """For each upload, the posts that show it: {media_id: [post id, title, status]}."""
    ids = list(media_ids)
    found: dict[int, list[RowMapping]] = {media_id: [] for media_id in ids}
    if not ids:
        return found
    query = (
        sa.select(media_use.c.media_id, post.c.id, post.c.title, post.c.status)
        .join(post, post.c.id == media_use.c.post_id)
        .where(media_use.c.media_id.in_(ids))
        .order_by(post.c.id)
    )
    for row in connection().execute(query).mappings():
        found[row["media_id"]].append(row)
    return found


def count_since(owner_id: int, since: datetime) -> int:
    """How many pictures an account uploaded since a time (the hourly limit)."""
    query = (
        sa.select(sa.func.count())
        .select_from(media)
        .where(media.c.owner_id == owner_id, media.c.created_at >= since)
    )
    return int(connection().execute(query).scalar_one())


def bytes_used(owner_id: int) -> int:
    """Every byte an account's uploads take in the store (the quota)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(media.c.bytes), 0)).where(
        media.c.owner_id == owner_id
    )
    return int(connection().execute(query).scalar_one())


def insert_media(values: dict[str, Any], files: Iterable[dict[str, Any]]) -> int:
    """Record an upload and its stored files; its id."""
    conn = connection()
    media_id = conn.execute(sa.insert(media).values(**values).returning(media.c.id)).scalar_one()
    conn.execute(sa.insert(media_file), [{**f, "media_id": media_id} for f in files])
    return media_id


def file_names(media_id: int) -> list[RowMapping]:
    """An upload's stored files: name and whether it is public."""
    query = sa.select(media_file.c.name, media_file.c.public).where(
        media_file.c.media_id == media_id
    )
    return list(connection().execute(query).mappings())


def owner_file_names(owner_id: int) -> list[RowMapping]:
    """Every stored file of an account's uploads (to delete them with the account)."""
    query = (
        sa.select(media_file.c.name, media_file.c.public)
        .join(media, media.c.id == media_file.c.media_id)
        .where(media.c.owner_id == owner_id)
    )
    return list(connection().execute(query).mappings())


def all_file_names() -> set[str]:
    """The name of every file any upload has (for `flaskr media gc`)."""
    return set(connection().execute(sa.select(media_file.c.name)).scalars())


def delete_media(media_id: int) -> None:
    """Forget an upload and its files' rows (the files themselves are the store's)."""
    conn = connection()
    conn.execute(sa.delete(media_file).where(media_file.c.media_id == media_id))
    conn.execute(sa.delete(media).where(media.c.id == media_id))


def ids_for_keys(keys: Iterable[str], *, owner_id: int) -> list[int]:
    """One account's uploads that Markdown names by these keys (others are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    query = sa.select(media.c.id).where(media.c.key.in_(wanted), media.c.owner_id == owner_id)
    return list(connection().execute(query).scalars())


def set_uses(post_id: int, media_ids: Iterable[int]) -> None:
    """Record exactly these uploads as shown by a post."""
    conn = connection()
    conn.execute(sa.delete(media_use).where(media_use.c.post_id == post_id))
    rows = [{"media_id": media_id, "post_id": post_id} for media_id in sorted(set(media_ids))]
    if rows:
        conn.execute(sa.insert(media_use), rows)


def all_media_ids() -> list[int]:
    """Every upload's id, oldest first (for `flaskr media rebuild`)."""
    return list(connection().execute(sa.select(media.c.id).order_by(media.c.id)).scalars())


def replace_variants(media_id: int, files: Iterable[dict[str, Any]], total: int) -> None:
    """Make these the upload's public files, and `total` its size in the store."""
    conn = connection()
    conn.execute(
        sa.delete(media_file).where(media_file.c.media_id == media_id, media_file.c.public)
    )
    conn.execute(sa.insert(media_file), [{**f, "media_id": media_id} for f in files])
    conn.execute(sa.update(media).where(media.c.id == media_id).values(bytes=total))


def reassign_media(from_id: int, to_id: int) -> None:
    """Give every upload of one account to another."""
    connection().execute(sa.update(media).where(media.c.owner_id == from_id).values(owner_id=to_id))


def decorative_keys(keys: Iterable[str]) -> set[str]:
    """Which of these keys name uploads marked decorative (their empty alt is right)."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    query = sa.select(media.c.key).where(media.c.key.in_(wanted), media.c.decorative)
    return set(connection().execute(query).scalars())


def replace_files(media_id: int, values: dict[str, Any], files: Iterable[dict[str, Any]]) -> None:
    """Make an upload another picture: its key, size and files."""
    conn = connection()
    conn.execute(sa.delete(media_file).where(media_file.c.media_id == media_id))
    conn.execute(sa.insert(media_file), [{**f, "media_id": media_id} for f in files])
    conn.execute(sa.update(media).where(media.c.id == media_id).values(**values))


def post_ids_using(media_id: int) -> list[int]:
    """The posts that show an upload, by id."""
    query = (
        sa.select(media_use.c.post_id)
        .where(media_use.c.media_id == media_id)
        .order_by(media_use.c.post_id)
    )
    return list(connection().execute(query).scalars())


def public_files(media_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Each upload's public files: {media_id: [(width, Pillow format name)]}."""
    ids = list(media_ids)
    found: dict[int, list[tuple[int, str]]] = {media_id: [] for media_id in ids}
    if not ids:
        return found
    query = sa.select(media_file.c.media_id, media_file.c.width, media_file.c.format).where(
        media_file.c.media_id.in_(ids), media_file.c.public
    )
    for media_id, width, fmt in connection().execute(query):
        found[media_id].append((width, fmt))
    return found


def public_files_by_key(key: str) -> list[tuple[int, str]]:
    """The public files of the upload Markdown names by key: [(width, format name)]."""
    query = (
        sa.select(media_file.c.width, media_file.c.format)
        .join(media, media.c.id == media_file.c.media_id)
        .where(media.c.key == key, media_file.c.public)
    )
    return [(width, fmt) for width, fmt in connection().execute(query)]
