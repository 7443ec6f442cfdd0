"""Comments in SQL: a post's thread a page at a time, one comment, the queue, and the
reads the screening rules make."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.comments.tables import comment, post_comment_count
from flaskr.db import connection
from flaskr.db.prepared import Prepared, Row, once_per_app
from flaskr.policy import Record, visible_comments

#: What a page shows of a comment, with its author's name and its post's author.
COLUMNS = (
    comment.c.id,
    comment.c.post_id,
    comment.c.author_id,
    comment.c.parent_id,
    comment.c.thread_id,
    comment.c.body,
    comment.c.body_html,
    comment.c.status,
    comment.c.held_reason,
    comment.c.created_at,
    comment.c.edited_at,
    comment.c.announced,
    comment.c.guest_name,
    # A guest's comment shows the name it was written under.
    sa.func.coalesce(user.c.username, comment.c.guest_name).label("username"),
    post.c.author_id.label("post_author_id"),
)
#: What a thread page shows of each comment: not the Markdown it was written in (the
#: HTML is made when it is saved), nor what only the mail and the rules read.
THREAD_COLUMNS = tuple(
    column for column in COLUMNS if column.key not in ("body", "announced", "guest_name")
)
_FROM = comment.outerjoin(user, user.c.id == comment.c.author_id).join(
    post, post.c.id == comment.c.post_id
)


_parent = comment.alias("parent")


def count_column(post_id: sa.ColumnElement[int]) -> sa.Label[int]:
    """A post's published-comment count as a column named comment_count, for lists."""
    comments = (
        sa.select(post_comment_count.c.comments)
        .where(post_comment_count.c.post_id == post_id)
        .scalar_subquery()
    )
    return sa.func.coalesce(comments, 0).label("comment_count")


def any_column(post_id: sa.ColumnElement[int]) -> sa.Label[bool]:
    """Whether a post has any comment at all, in any state (held, spam, deleted too), as a
    column named has_comments: one probe of the post's comment index."""
    return sa.exists().where(comment.c.post_id == post_id).label("has_comments")


def _with_parent() -> sa.Select[Any]:
    """COLUMNS, with what the policy asks of a reply's parent (parent_status, parent_author_id)."""
    return sa.select(
        *COLUMNS,
        _parent.c.status.label("parent_status"),
        _parent.c.author_id.label("parent_author_id"),
        comment.c.guest_email,  # for the guest rules; never shown
    ).select_from(_FROM.outerjoin(_parent, _parent.c.id == comment.c.parent_id))


def find_comment(comment_id: int) -> Row | None:
    """One comment with its author's name, its post's author and its parent's status,
    whatever its status."""
    query = _with_parent().where(comment.c.id == comment_id)
    return connection().execute(query).mappings().first()


def _seen(viewer: Record | None, moderator: bool) -> sa.ColumnElement[bool]:
    """The comments the viewer sees: visible themselves, and (a reply) under a visible one."""
    return sa.and_(
        visible_comments(comment, viewer, moderator),
        sa.or_(comment.c.parent_id.is_(None), visible_comments(_parent, viewer, moderator)),
    )


def thread_page(
    post_id: int, viewer: Record | None, moderator: bool, *, page: int, per_page: int
) -> list[Row]:
    """A page of the post's comments the viewer sees, each thread's first then its replies,
    oldest first (one more than per_page, to tell whether another page follows)."""
    kind = "moderator" if moderator else "visitor" if viewer is None else "reader"
    params = {"post_id": post_id, "limit": per_page + 1, "offset": (page - 1) * per_page}
    if kind == "reader":
        params["viewer_id"] = viewer["id"]  # type: ignore[index]
    return once_per_app(_thread_statement, kind).rows(params)


def _thread_statement(kind: str) -> Prepared:
    """thread_page's query for a kind of viewer, built once and run on the driver
    (db.prepared): a long thread is read often, and SQLAlchemy's execute() cost as
    much as the SQL."""
    viewer: Record | None = {"id": sa.bindparam("viewer_id")} if kind == "reader" else None
    return Prepared(
        sa.select(*THREAD_COLUMNS, _parent.c.status.label("parent_status"))
        .select_from(_FROM.outerjoin(_parent, _parent.c.id == comment.c.parent_id))
        .where(comment.c.post_id == sa.bindparam("post_id"), _seen(viewer, kind == "moderator"))
        .order_by(comment.c.thread_id, comment.c.id)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset")),
        inline=("limit", "offset"),
    )


def feed_page(post_id: int, limit: int) -> list[Row]:
    """The post's newest published comments that every visitor sees, newest first."""
    query = (
        sa.select(*COLUMNS)
        .select_from(_FROM.outerjoin(_parent, _parent.c.id == comment.c.parent_id))
        .where(
            comment.c.post_id == post_id,
            comment.c.status == "published",  # "[deleted]" is no news
            _seen(None, False),
        )
        .order_by(comment.c.id.desc())
        .limit(limit)
    )
    return list(connection().execute(query).mappings())


def seen_before(comment_row: Record, viewer: Record | None, moderator: bool) -> int:
    """How many of the post's comments the viewer sees before this one (its page)."""
    thread_id, comment_id = comment_row["thread_id"], comment_row["id"]
    query = (
        sa.select(sa.func.count())
        .select_from(comment.outerjoin(_parent, _parent.c.id == comment.c.parent_id))
        .where(
            comment.c.post_id == comment_row["post_id"],
            sa.or_(
                comment.c.thread_id < thread_id,
                sa.and_(comment.c.thread_id == thread_id, comment.c.id < comment_id),
            ),
            _seen(viewer, moderator),
        )
    )
    return int(connection().execute(query).scalar_one())


def count(post_id: int) -> int:
    """The post's published comments."""
    query = sa.select(post_comment_count.c.comments).where(post_comment_count.c.post_id == post_id)
    return int(connection().execute(query).scalar() or 0)


def insert(**values: Any) -> int:
    """Add a comment; return its id."""
    statement = sa.insert(comment).values(**values).returning(comment.c.id)
    return int(connection().execute(statement).scalar_one())


def update(comment_ids: Iterable[int], **values: Any) -> None:
    """Change these comments' columns."""
    connection().execute(
        sa.update(comment).where(comment.c.id.in_(list(comment_ids))).values(**values)
    )


def delete(comment_ids: Iterable[int]) -> None:
    """Remove these comments (their replies go with them)."""
    connection().execute(sa.delete(comment).where(comment.c.id.in_(list(comment_ids))))


def has_replies(comment_id: int) -> bool:
    """True when any reply, in any state, hangs under the comment."""
    query = sa.select(comment.c.id).where(comment.c.parent_id == comment_id).limit(1)
    return connection().execute(query).first() is not None


def approved_count(author_id: int) -> int:
    """How many of the account's comments readers see (0 or 1 is all the rule asks)."""
    query = (
        sa.select(comment.c.id)
        .where(comment.c.author_id == author_id, comment.c.status == "published")
        .limit(1)
    )
    return len(connection().execute(query).all())


def approved_guest(email: str) -> bool:
    """True when readers see a comment written under this guest address."""
    query = sa.select(comment.c.id).where(
        comment.c.guest_email == email, comment.c.status == "published"
    )
    return connection().execute(query.limit(1)).first() is not None


def delete_unverified(before: datetime) -> None:
    """Remove guests' comments whose address was never confirmed, written before then."""
    connection().execute(
        sa.delete(comment).where(comment.c.status == "unverified", comment.c.created_at < before)
    )


def same_text_since(
    author_id: int | None, body: str, since: datetime, guest_email: str = ""
) -> bool:
    """True when the account (or, author_id None, the guest address) sent this very text
    since then (in any state)."""
    who = comment.c.author_id == author_id if author_id else comment.c.guest_email == guest_email
    query = (
        sa.select(comment.c.id)
        .where(
            who,
            comment.c.created_at >= since,
            comment.c.body == body,
        )
        .limit(1)
    )
    return connection().execute(query).first() is not None


def queue(moderator_id: int | None, *, page: int, per_page: int) -> list[Row]:
    """Held comments, oldest first: on the posts of moderator_id (None: on every post)."""
    query = sa.select(*COLUMNS, post.c.title.label("post_title")).select_from(_FROM)
    query = query.where(comment.c.status == "held")
    if moderator_id is not None:
        query = query.where(post.c.author_id == moderator_id)
    query = query.order_by(comment.c.id).limit(per_page + 1).offset((page - 1) * per_page)
    return list(connection().execute(query).mappings())


def find_many(comment_ids: list[int]) -> list[Row]:
    """These comments (those that exist), as find_comment() gives each."""
    if not comment_ids:
        return []
    query = _with_parent().where(comment.c.id.in_(comment_ids))
    return list(connection().execute(query).mappings())


def rows_of(post_id: int) -> list[RowMapping]:
    """Every comment under the post, whole (the trash keeps them with it)."""
    query = sa.select(comment).where(comment.c.post_id == post_id).order_by(comment.c.id)
    return list(connection().execute(query).mappings())


def put_back(rows: list[dict[str, Any]]) -> None:
    """Insert a restored post's comments again, with their ids (never handed out again).

    Comments of accounts deleted meanwhile stay gone, and so do replies under them
    and "[deleted]" markers left with no reply.
    """
    authors = {row["author_id"] for row in rows if row["author_id"] is not None}
    existing = set(
        connection().execute(sa.select(user.c.id).where(user.c.id.in_(authors))).scalars()
    )
    kept = [row for row in rows if row["author_id"] is None or row["author_id"] in existing]
    tops = {row["id"] for row in kept if row["parent_id"] is None}
    replies = [row for row in kept if row["parent_id"] in tops]
    answered = {row["parent_id"] for row in replies}
    tops_kept = [
        row
        for row in kept
        if row["parent_id"] is None and (row["status"] != "deleted" or row["id"] in answered)
    ]
    if tops_kept:
        connection().execute(sa.insert(comment), tops_kept)
    if replies:
        connection().execute(sa.insert(comment), replies)


def find_account(user_id: int) -> Row | None:
    """An account as the ban button needs it: name, role and whether it is banned."""
    query = sa.select(user.c.id, user.c.username, user.c.role, user.c.comments_banned).where(
        user.c.id == user_id
    )
    return connection().execute(query).mappings().first()


def set_banned(user_id: int, banned: bool) -> None:
    """Stop the account commenting, or let it again."""
    connection().execute(sa.update(user).where(user.c.id == user_id).values(comments_banned=banned))
