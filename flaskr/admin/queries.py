"""Reads and writes of the admin area: counts, the user list, the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from flaskr.admin.tables import audit_log
from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.policy import PUBLISHED, public_posts
from flaskr.tags.tables import post_tag, tag
from flaskr.trash.tables import post_trash


def count_users_by_role() -> dict[str, int]:
    """How many enabled accounts have each role."""
    query = (
        sa.select(user.c.role, sa.func.count())
        .where(user.c.disabled == sa.false())
        .group_by(user.c.role)
    )
    return {role: count for role, count in connection().execute(query)}


def count_disabled_users() -> int:
    """How many accounts are disabled."""
    query = sa.select(sa.func.count()).select_from(user).where(user.c.disabled == sa.true())
    return connection().execute(query).scalar_one()


def count_posts_by_state(now: datetime) -> dict[str, int]:
    """Posts that are published (and due), scheduled, and drafts.

    Counts every post's index entry (ix_post_published): milliseconds at a
    hundred thousand posts, on a page only admins open.
    """
    state = sa.case(
        (post.c.status != PUBLISHED, "draft"),
        (post.c.published_at > now, "scheduled"),
        else_="published",
    )
    query = sa.select(state.label("state"), sa.func.count()).group_by(state)
    return {name: count for name, count in connection().execute(query)}


def count_since(event: str, since: datetime, *, longest: timedelta) -> int:
    """How many times one kind of event happened since a moment: a burst (which lasts at
    most `longest`) counts each time it happened, if its last time is since then."""
    query = sa.select(sa.func.coalesce(sa.func.sum(audit_log.c.times), 0)).where(
        audit_log.c.event == event,
        # A range of the (event, at) index: no burst that began earlier reaches `since`.
        audit_log.c.at >= since - longest,
        sa.func.coalesce(audit_log.c.last_at, audit_log.c.at) >= since,
    )
    return connection().execute(query).scalar_one()


def newest_users(limit: int) -> list[RowMapping]:
    """The most recently registered accounts."""
    query = (
        sa.select(user.c.id, user.c.username, user.c.role, user.c.created)
        .order_by(user.c.id.desc())
        .limit(limit)
    )
    return list(connection().execute(query).mappings())


def list_users(starts_with: str, *, page: int, per_page: int) -> list[RowMapping]:
    """A page of accounts by username (those starting with `starts_with`), with their
    post counts; per_page + 1 rows, to tell whether a next page exists."""
    posts = (
        sa.select(sa.func.count())
        .select_from(post)
        .where(post.c.author_id == user.c.id)
        .scalar_subquery()
    )
    query = sa.select(
        user.c.id,
        user.c.username,
        user.c.role,
        user.c.disabled,
        user.c.created,
        posts.label("posts"),
    )
    if starts_with:
        # A range on the unique index, not LIKE: case-sensitive, but never a scan.
        query = query.where(
            user.c.username >= starts_with, user.c.username < starts_with + "\U0010ffff"
        )
    query = query.order_by(user.c.username).limit(per_page + 1).offset((page - 1) * per_page)
    return list(connection().execute(query).mappings())


def find_user(user_id: int) -> RowMapping | None:
    """One account as the admin area shows it."""
    query = sa.select(user.c.id, user.c.username, user.c.role, user.c.disabled).where(
        user.c.id == user_id
    )
    return connection().execute(query).mappings().first()


def count_admins() -> int:
    """How many enabled accounts are admins."""
    query = (
        sa.select(sa.func.count())
        .select_from(user)
        .where(user.c.role == "admin", user.c.disabled == sa.false())
    )
    return connection().execute(query).scalar_one()


def insert_audit(**values: Any) -> None:
    """Add an entry to the audit log."""
    connection().execute(sa.insert(audit_log).values(**values))


def extend_burst(
    *, at: datetime, quiet_since: datetime, started_since: datetime, **same: Any
) -> bool:
    """Count one more time on the newest entry exactly like this one (same event, people,
    address and details) whose last time is after quiet_since and which began after
    started_since. False if there is none: the caller starts a new entry."""
    burst = (
        sa.select(audit_log.c.id)
        .where(
            audit_log.c.event == same["event"],
            audit_log.c.at >= started_since,
            sa.func.coalesce(audit_log.c.last_at, audit_log.c.at) >= quiet_since,
            audit_log.c.actor_id.is_not_distinct_from(same["actor_id"]),
            audit_log.c.target_id.is_not_distinct_from(same["target_id"]),
            audit_log.c.ip.is_not_distinct_from(same["ip"]),
            audit_log.c.details == same["details"],
        )
        .order_by(audit_log.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    update = (
        sa.update(audit_log)
        .where(audit_log.c.id == burst)
        .values(times=audit_log.c.times + 1, last_at=at)
    )
    return connection().execute(update).rowcount == 1


def list_audit(event: str | None, *, page: int, per_page: int) -> list[RowMapping]:
    """A page of the audit log, newest first, optionally of one kind of event, with the
    usernames of who did it and to whom (where the accounts still exist)."""
    actor = user.alias("actor")
    target = user.alias("target")
    query = (
        sa.select(
            audit_log,
            actor.c.username.label("actor_name"),
            target.c.username.label("target_name"),
        )
        .select_from(
            audit_log.outerjoin(actor, actor.c.id == audit_log.c.actor_id).outerjoin(
                target, target.c.id == audit_log.c.target_id
            )
        )
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    if event:
        query = query.where(audit_log.c.event == event)
    return list(connection().execute(query).mappings())


def list_posts(
    *,
    author_id: int | None,
    state: str | None,
    tag_id: int | None,
    now: datetime,
    page: int,
    per_page: int,
) -> list[RowMapping]:
    """A page of posts in every state, newest first, with their authors; per_page + 1 rows.

    `state` is 'published' (and due), 'scheduled' or 'draft' (None: all); an
    author or tag narrows it. Walks the primary key (or the author's index)
    newest first and stops after the page: no count, no sort of every post.
    """
    query = (
        sa.select(
            post.c.id,
            post.c.title,
            post.c.slug,
            post.c.language,
            post.c.status,
            post.c.published_at,
            post.c.author_id,
            user.c.username,
        )
        .select_from(post.join(user, user.c.id == post.c.author_id))
        .order_by(post.c.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    if author_id is not None:
        query = query.where(post.c.author_id == author_id)
    if state == "draft":
        query = query.where(post.c.status != PUBLISHED)
    elif state == "scheduled":
        query = query.where(post.c.status == PUBLISHED, post.c.published_at > now)
    elif state == "published":
        query = query.where(public_posts(post, now))
    if tag_id is not None:
        tagged = sa.select(post_tag.c.post_id).where(post_tag.c.tag_id == tag_id)
        query = query.where(post.c.id.in_(tagged))
    return list(connection().execute(query).mappings())


def find_tag_id(name: str) -> int | None:
    """A tag's id by name, whatever its posts' states."""
    return connection().execute(sa.select(tag.c.id).where(tag.c.name == name)).scalar()


def count_posts_of(user_id: int) -> int:
    """How many posts (in any state, the trash included) an account has."""
    live = sa.select(sa.func.count()).select_from(post).where(post.c.author_id == user_id)
    trashed = (
        sa.select(sa.func.count()).select_from(post_trash).where(post_trash.c.author_id == user_id)
    )
    conn = connection()
    return conn.execute(live).scalar_one() + conn.execute(trashed).scalar_one()


def reassign_posts(from_id: int, to_id: int) -> None:
    """Give every post of one account (and its trash) to another. The post table's
    triggers rewrite the search index and mark the blog changed."""
    conn = connection()
    conn.execute(sa.update(post).where(post.c.author_id == from_id).values(author_id=to_id))
    conn.execute(
        sa.update(post_trash).where(post_trash.c.author_id == from_id).values(author_id=to_id)
    )
