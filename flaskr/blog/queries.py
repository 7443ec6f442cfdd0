"""Reads and single statements on posts; every reader list applies policy.public_posts()."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flaskr.auth.queries import profile_columns, username_column
from flaskr.auth.tables import user
from flaskr.blog.tables import content_version as content_version_table
from flaskr.blog.tables import post, post_revision
from flaskr.comments.queries import any_column as any_comment_column
from flaskr.comments.queries import count_column as comment_count_column
from flaskr.db import connection, is_sqlite, notified_value, utcnow
from flaskr.db.prepared import Prepared, Row, once_per_app
from flaskr.likes.queries import count_column
from flaskr.policy import PUBLISHED, public_posts
from flaskr.tags.tables import post_tag, tag

COLUMNS = (
    post.c.id,
    post.c.title,
    post.c.body,
    post.c.body_html,
    post.c.render_version,
    post.c.created,
    post.c.published_at,
    post.c.updated,
    post.c.status,
    post.c.version,
    post.c.summary,
    post.c.slug,
    post.c.excerpt,
    post.c.language,
    post.c.cover,
    count_column(post.c.id),
    comment_count_column(post.c.id),
    post.c.comments_closed,
    post.c.autosaved_at,
    post.c.author_id,
    post.c.saved_by,
    user.c.username,
    post.c.tag_names,
)
#: Columns a reader list never reads: the Markdown source, which only a stale row
#: needs (post_bodies()), and what only the editor, the history and feeds read.
#: Every column is read and converted for every row of every list page (see
#: bench/RESULTS.md for what these cost).
NOT_LISTED = (
    post.c.body,
    post.c.created,
    post.c.status,
    post.c.comments_closed,
    post.c.autosaved_at,
    post.c.saved_by,
)
LIST_COLUMNS = tuple(
    column for column in COLUMNS if not any(column is left_out for left_out in NOT_LISTED)
)
#: What a feed reads: a list's columns but the excerpt and the author's id, which only
#: a list page shows (on SQLite 10-30 us less for a feed's 20 rows), and the creation
#: time an entry's id is made of. The like and comment counts stay, though a feed shows
#: neither: without their two subqueries PostgreSQL judged planning the statement cheap
#: enough to plan it anew at every run (no generic plan in 16,000 runs; 140 us more a
#: feed, bench/RESULTS.md).
FEED_COLUMNS = (
    *(column for column in LIST_COLUMNS if column.key not in ("excerpt", "author_id")),
    post.c.created,
)
NEWEST_FIRST = (post.c.published_at.desc(), post.c.id.desc())
WITH_AUTHOR = post.join(user, user.c.id == post.c.author_id)

# Statements readers' pages run are built once per app (db.prepared.once_per_app)
# by the functions below, with every changing value bound as a parameter:
# building and caching a statement anew costs more than running it.

#: The time a prebuilt statement judges visibility at (bound when it runs).
NOW = sa.bindparam("now", type_=sa.DateTime())
#: A page's first post (publish time, id): the seek start of a deep page.
START_AT = sa.bindparam("start_at", type_=sa.DateTime())
START_ID = sa.bindparam("start_id", type_=sa.Integer())

#: The kinds of reader lists: every public post, one author's, one tag's.
LISTS = ("all", "author", "tag")


def _reader_ids(kind: str, *, seek: bool) -> sa.Select:
    """The ids of one reader list, newest first, a bound number from a bound offset.

    With seek, the list starts at the post (START_AT, START_ID) instead of the
    newest: visibility is then judged at START_AT (never later than now, a
    visible post's time), so the index range starts right there.
    """
    now = START_AT if seek else NOW
    if kind == "tag":
        # Straight off the tag's index, which carries copies of the visibility columns.
        # The tag is named, not numbered: a tag page needs no lookup of its own (on
        # PostgreSQL a round trip), and a name no visible post carries lists nothing.
        key = (post_tag.c.published_at, post_tag.c.post_id)
        tag_id = sa.select(tag.c.id).where(tag.c.name == sa.bindparam("tag_name"))
        ids = sa.select(post_tag.c.post_id).where(
            post_tag.c.tag_id == tag_id.scalar_subquery(), public_posts(post_tag, now)
        )
    else:
        key = (post.c.published_at, post.c.id)
        ids = sa.select(post.c.id).where(public_posts(post, now))
        if kind == "author":
            # Named, as a tag is: the profile's own lookup rides along (_reader_list).
            author_id = sa.select(user.c.id).where(user.c.username == sa.bindparam("author_name"))
            ids = ids.where(post.c.author_id == author_id.scalar_subquery())
    if seek:
        ids = ids.where(sa.tuple_(*key) <= sa.tuple_(START_AT, START_ID))
    return (
        ids.order_by(key[0].desc(), key[1].desc())
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )


def _full_rows(ids: sa.Select, columns: tuple[sa.ColumnElement[Any], ...]) -> sa.Select:
    # Page through the narrow index first, then fetch the few full rows: deep
    # pages skip index entries, not post bodies.
    return (
        sa.select(*columns)
        .select_from(WITH_AUTHOR)
        .where(post.c.id.in_(ids.scalar_subquery()))
        .order_by(*NEWEST_FIRST)
    )


def _rows_off_the_index(
    kind: str, seek: bool, columns: tuple[sa.ColumnElement[Any], ...]
) -> sa.Select:
    # A list that skips nothing (a first page, a seek) joins the full rows to the
    # index entries as the index yields them, in its order: no IN list to match
    # and sort again. A tag page took half the time (bench/RESULTS.md).
    source = WITH_AUTHOR
    if kind == "tag":
        source = post_tag.join(post, post.c.id == post_tag.c.post_id).join(
            user, user.c.id == post.c.author_id
        )
    return _reader_ids(kind, seek=seek).with_only_columns(*columns).select_from(source)


def _reader_list(kind: str, seek: bool, feed: bool = False, skips: bool = True) -> Prepared:
    """The statement of one kind of reader list; `skips`: for an OFFSET past 0."""
    columns: tuple[sa.ColumnElement[Any], ...] = FEED_COLUMNS if feed else LIST_COLUMNS
    if kind == "author" and not feed:
        # An author's list carries the author's public profile on each row: their page
        # needs no lookup of its own while they have posts to show (auth.queries.profile_in).
        columns = (*columns, *profile_columns())
    if skips:
        statement = _full_rows(_reader_ids(kind, seek=seek), columns)
    else:
        statement = _rows_off_the_index(kind, seek, columns)
    return Prepared(statement, inline=("limit", "offset"))


def list_reader_posts(
    *,
    limit: int,
    offset: int = 0,
    start: tuple[datetime, int] | None = None,
    author: str | None = None,
    tag: str | None = None,
    now: datetime | None = None,
    feed: bool = False,
) -> list[Row]:
    """`limit` posts readers see (of the author named `author`, with their profile on each
    row, or with the tag named `tag`), newest first, with what a feed needs if `feed`.

    They start `offset` posts after the newest, or after the post `start` (its
    publish time and id, itself included) when given.
    """
    kind = "tag" if tag is not None else "author" if author is not None else "all"
    params: dict[str, Any] = {"limit": limit, "offset": offset, "now": now or utcnow()}
    if start is not None:
        params["start_at"], params["start_id"] = min(start[0], params["now"]), start[1]
    if kind == "tag":
        params["tag_name"] = tag
    elif kind == "author":
        params["author_name"] = author
    return once_per_app(_reader_list, kind, start is not None, feed, offset > 0).rows(params)


def _post_by_id() -> sa.Select[Any]:
    return sa.select(*COLUMNS).select_from(WITH_AUTHOR).where(post.c.id == sa.bindparam("id"))


def _find_post() -> Prepared:
    return Prepared(_post_by_id())


def _post_by_id_for_update() -> sa.Select[Any]:
    # Two saves of one post queue here on PostgreSQL (SQLite's write transactions
    # are serialized already), so the later one sees the new version.
    return _post_by_id().with_for_update(of=post)


def find_post(post_id: int, *, for_update: bool = False) -> Row | None:
    """A post with its author's name, whatever its status (locked for a save if asked)."""
    if for_update:
        query = once_per_app(_post_by_id_for_update)
        return connection().execute(query, {"id": post_id}).mappings().first()
    return once_per_app(_find_post).first({"id": post_id})


def post_bodies(post_ids: list[int]) -> dict[int, str]:
    """The Markdown source of each of the posts, by id."""
    query = sa.select(post.c.id, post.c.body).where(post.c.id.in_(post_ids))
    return {row.id: row.body for row in connection().execute(query)}


def insert_post(**values: Any) -> int:
    """Add a post; return its id."""
    return connection().execute(sa.insert(post).values(**values).returning(post.c.id)).scalar_one()


def update_post(post_id: int, **values: Any) -> None:
    """Change a post's columns."""
    connection().execute(sa.update(post).where(post.c.id == post_id).values(**values))


def forget_rendered() -> None:
    """Have every post rendered again when next shown (what pictures' srcset lists changed)."""
    connection().execute(sa.update(post).values(render_version=0))


def update_rendered(post_id: int, body_html: str, summary: str, render_version: int) -> None:
    """Cache a post's rendered HTML and summary."""
    update_post(post_id, body_html=body_html, summary=summary, render_version=render_version)


def delete_post(post_id: int) -> None:
    """Remove a post."""
    connection().execute(sa.delete(post).where(post.c.id == post_id))


def list_own_posts(author_id: int, *, page: int, per_page: int) -> list[Row]:
    """An author's posts in every state (drafts, scheduled, published), newest first."""
    query = (
        sa.select(*COLUMNS)
        .select_from(WITH_AUTHOR)
        .where(post.c.author_id == author_id)
        .order_by(post.c.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    return list(connection().execute(query).mappings())


#: What a post page shows of the posts just older and newer than it.
NEIGHBOUR_COLUMNS = ("id", "title", "slug", "language")
#: The two neighbours: "newer" is the page's next link, "older" its previous one.
SIDES = ("newer", "older")


def _neighbour(side: str, post_id: sa.BindParameter[int], lateral: bool) -> sa.FromClause:
    """The visible post just newer (or just older) than the post `post_id`: at most one row.

    `lateral`: read the post's time from the row it is joined to (PostgreSQL);
    else look the post up by its id (SQLite has no LATERAL).
    """
    if lateral:
        at: sa.ColumnElement[Any] = post.c.published_at
        this_id: sa.ColumnElement[Any] = post.c.id
    else:
        here = post.alias("here")
        at = sa.select(here.c.published_at).where(here.c.id == post_id).scalar_subquery()
        this_id = post_id
    other = post.alias(f"{side}_post")
    key, start = sa.tuple_(other.c.published_at, other.c.id), sa.tuple_(at, this_id)
    shown = sa.select(*(other.c[name] for name in NEIGHBOUR_COLUMNS))
    if side == "newer":
        # One explicit bound at the post's time lets the index walk start there, not
        # at the newest post of the blog (two bounds cost SQLite 50x).
        found = shown.where(public_posts(other, NOW), other.c.published_at >= at, key > start)
        found = found.order_by(other.c.published_at, other.c.id)
    else:
        # Older than a visible post is visible at that post's time already.
        found = shown.where(public_posts(other, at), key < start)
        found = found.order_by(other.c.published_at.desc(), other.c.id.desc())
    return found.limit(1).lateral(side) if lateral else found.limit(1).subquery(side)


def _post_page(lateral: bool) -> Prepared:
    """A post as _post_by_id() reads it, with its two neighbours' columns beside it
    (`newer_id`, `older_title`...) and whether it has any comment (`has_comments`): a
    post page's reads in one statement, one round trip on PostgreSQL, where each trip
    costs more than the lookups themselves.

    `lateral` (PostgreSQL): the neighbours start from the post's own row, and the
    author's name is looked up by id. Its generic plan otherwise looked the post up
    four more times and hashed every user for one post's author: 0.107 ms of
    execution against 0.076 (bench/RESULTS.md).
    """
    post_id = sa.bindparam("id", type_=sa.Integer())
    columns: tuple[sa.ColumnElement[Any], ...] = COLUMNS
    joined: sa.FromClause = WITH_AUTHOR
    if lateral:
        columns = (
            *(column for column in COLUMNS if column is not user.c.username),
            username_column(post.c.author_id),
        )
        joined = post
    beside = []
    for side in SIDES:
        found = _neighbour(side, post_id, lateral)
        joined = joined.outerjoin(found, sa.true())
        beside += [found.c[name].label(f"{side}_{name}") for name in NEIGHBOUR_COLUMNS]
    columns = (*columns, any_comment_column(post.c.id), *beside)
    return Prepared(sa.select(*columns).select_from(joined).where(post.c.id == post_id))


def find_post_page(
    post_id: int, now: datetime | None = None
) -> tuple[Row | None, dict[str, Row | None]]:
    """A post (as find_post() gives it, and `has_comments`), whatever its status, and
    the visible posts just newer and just older than it ({"newer": row or None, ...}).

    The neighbours are those of the post's place in time: only a visible post's
    page shows them.
    """
    lateral = not is_sqlite()  # SQLite has no LATERAL
    found = once_per_app(_post_page, lateral).first({"id": post_id, "now": now or utcnow()})
    neighbours: dict[str, Row | None] = dict.fromkeys(SIDES)
    if found is None:
        return None, neighbours
    row = dict(found)
    for side in SIDES:
        columns = {name: row.pop(f"{side}_{name}") for name in NEIGHBOUR_COLUMNS}
        neighbours[side] = columns if columns["id"] is not None else None
    return row, neighbours


def insert_revision(**values: Any) -> None:
    """Keep a post's previous version."""
    connection().execute(sa.insert(post_revision).values(**values))


def _next_publication() -> Prepared:
    return Prepared(
        sa.select(sa.func.min(post.c.published_at)).where(
            post.c.status == PUBLISHED, post.c.published_at > NOW
        )
    )


def _content_version() -> Prepared:
    return Prepared(
        sa.select(content_version_table.c.version, content_version_table.c.changed_at).where(
            content_version_table.c.id == 1
        )
    )


def next_publication(now: datetime) -> datetime | None:
    """When the next scheduled post becomes visible to readers (None if none is scheduled)."""
    return once_per_app(_next_publication).scalar({"now": now})


#: The channel the bump triggers NOTIFY on PostgreSQL (migration 0007).
CONTENT_CHANNEL = "flaskr_content"


def _content_version_sql() -> str:
    # Both columns: a page's freshness check needs the version, a feed's Last-Modified
    # the time too, and one listener per process watches them.
    statement = sa.select(
        content_version_table.c.version, content_version_table.c.changed_at
    ).where(content_version_table.c.id == 1)
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def content_version() -> int | None:
    """The counter every write to what readers see bumps (by triggers); None if its row is gone.

    On PostgreSQL it is usually known without a query: see flaskr.db.notified.
    """
    vouched, change = _vouched_change()
    if vouched:
        return None if change is None else int(change["version"])
    return once_per_app(_content_version).scalar()


def find_last_change() -> Row | None:
    """The content version and when a write readers could see last bumped it (plain SQL too).

    On PostgreSQL it is usually known without a query, as content_version() is.
    """
    vouched, change = _vouched_change()
    return change if vouched else once_per_app(_content_version).first()


def _vouched_change() -> tuple[bool, Row | None]:
    """(True, the last change, or None when its row is gone) while PostgreSQL's listener
    vouches for it; (False, None) when the database must be asked."""
    watch = notified_value(CONTENT_CHANNEL, once_per_app(_content_version_sql))
    if watch is None:
        return False, None
    known, found = watch.get()
    if not known:
        return False, None
    return True, None if found is None else {"version": found[0], "changed_at": found[1]}
