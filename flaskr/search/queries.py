"""Search reads: SQLite FTS5 with bm25, PostgreSQL tsvector with ts_rank.

They return the texts found as they are (a post's body up to SNIPPET_SOURCE
characters); search.snippets marks the words in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from flaskr.auth.queries import username_column
from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.comments.tables import comment
from flaskr.db import connection, is_sqlite, planned_for_its_values, utcnow
from flaskr.db.prepared import Prepared, once_per_app
from flaskr.policy import public_posts, visible_comments
from flaskr.search import terms
from flaskr.tags.tables import post_tag, tag

#: Where a snippet is looked for: a post's first 20,000 characters (about 3,000
#: words). Past them its snippet is its start; its title is always whole.
SNIPPET_SOURCE = 20_000

#: What a result shows: its title, its author, and the text its snippet is cut from
#: (its Markdown source, as the index holds it; not the rendered HTML).
POST_COLUMNS = (
    post.c.id,
    post.c.title,
    post.c.slug,
    post.c.language,
    post.c.published_at,
    # The author's name looked up only for the rows shown: joined, it was looked
    # up for every row an OFFSET skips (+22% on a page 3,000 deep).
    username_column(post.c.author_id),
    sa.func.substr(post.c.body, 1, SNIPPET_SOURCE).label("body"),
)


def stemming() -> str:
    """The Snowball algorithm the full-text index stems words with, for marking
    them: FTS5's porter tokenizer, PostgreSQL's "english" configuration."""
    return "porter" if is_sqlite() else "english"


def _narrowing(
    post_id: sa.ColumnElement[int], tag_name: Any, author: Any, now: Any = None
) -> list[sa.ColumnElement[bool]]:
    """The tag and author filters as conditions on a post id (visible posts only).

    They apply before the cut to the newest candidates: a filtered search ranks
    among the filtered matches, not among whatever else matched more recently.
    Values may be bound parameters (statements built once).
    """
    where: list[sa.ColumnElement[bool]] = []
    if tag_name is not None:
        tag_id = sa.select(tag.c.id).where(tag.c.name == tag_name).scalar_subquery()
        tagged = sa.select(post_tag.c.post_id).where(
            post_tag.c.tag_id == tag_id, public_posts(post_tag, now)
        )
        where.append(post_id.in_(tagged.correlate(None)))
    if author is not None:
        author_id = sa.select(user.c.id).where(user.c.username == author).scalar_subquery()
        written = sa.select(post.c.id).where(post.c.author_id == author_id, public_posts(post, now))
        where.append(post_id.in_(written.correlate(None)))
    return where


def search_posts(
    text: str, *, page: int, per_page: int, tag_name: str | None = None, author: str | None = None
) -> list[Mapping[Any, Any]]:
    """A page of matching visible posts, best first (POST_COLUMNS), and one more row
    when more follow."""
    if is_sqlite():
        return _search_sqlite(text, page, per_page, tag_name, author)
    return _search_postgres(text, page, per_page, tag_name, author)


def _candidates() -> int:
    # Ranking every match of a word found in most posts would cost O(posts):
    # rank among the newest N matches instead, which is what readers want anyway.
    return current_app.config["SEARCH_CANDIDATES"]


def _count(
    index_id: sa.ColumnElement[int], matches: sa.ColumnElement[bool], *, newest_first: bool = False
) -> Prepared:
    """How many posts match, counted up to `count_to`. Both full-text indexes alike."""
    # Counting stops after the limit: cheap for rare and common words alike.
    first = sa.select(index_id).where(matches).limit(sa.bindparam("count_to"))
    if newest_first:
        # PostgreSQL: as the page is then read. Unordered, a common word's count
        # scanned the table through a small ring buffer, rereading its pages from
        # the OS every time (0.32 ms against 0.06 ms for the index walk, whose
        # pages stay cached). FTS5 counts faster in its own order.
        first = first.order_by(index_id.desc())
    return Prepared(sa.select(sa.func.count().label("count")).select_from(first.subquery()))


def _newest(
    joined: sa.FromClause, index_id: sa.ColumnElement[int], where: list[sa.ColumnElement[bool]]
) -> Prepared:
    """A page of the newest visible matches, what a word in very many posts lists:
    the index walked newest first, stopping once the page is full."""
    return Prepared(
        sa.select(*POST_COLUMNS)
        .select_from(joined)
        .where(*where, public_posts(post, _NOW))
        .order_by(index_id.desc())
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )


def _best(ranked: sa.Select[Any]) -> Prepared:
    """The posts of a ranked page (`ranked` gives their id and score, best first) with
    what they show, read for the page's posts only: read before ranking, every
    candidate's text would be sorted along with it."""
    page = ranked.limit(sa.bindparam("limit")).offset(sa.bindparam("offset")).subquery("page")
    return Prepared(
        sa.select(*POST_COLUMNS)
        .select_from(page.join(post, post.c.id == page.c.id))
        .order_by(page.c.score, page.c.id.desc())
    )


def _page_params(
    words: dict[str, Any], page: int, per_page: int, tag_name: str | None, author: str | None
) -> dict[str, Any]:
    """The values a search statement binds: the words, the time, the page, the filters."""
    params = {**words, "now": utcnow(), "limit": per_page + 1, "offset": (page - 1) * per_page}
    if tag_name:
        params["tag_name"] = tag_name
    if author:
        params["author"] = author
    return params


def _common(count: Prepared, params: dict[str, Any]) -> bool:
    """True when more posts match than SEARCH_RANK_MAX_MATCHES: listed newest first."""
    rank_max = current_app.config["SEARCH_RANK_MAX_MATCHES"]
    return bool(count.scalar({**params, "count_to": rank_max + 1}) > rank_max)


_FTS = sa.table("post_fts", sa.column("rowid"), sa.column("post_fts"))
_NOW = sa.bindparam("now", type_=sa.DateTime())


@dataclass(frozen=True)
class _Search:
    """The statements of one kind of search (with or without tag and author filters)."""

    count: Prepared
    #: A page of the newest matches, in one walk of the index.
    newest: Prepared
    #: A page of the best of the newest SEARCH_CANDIDATES matches.
    ranked: Prepared


def _sqlite_search(by_tag: bool, by_author: bool) -> _Search:
    """Built once per kind and app; the words, filters, time and page are bound when they run.
    Run on the driver (db.prepared): SQLAlchemy's execute() cost as much as the SQL."""
    fts = _FTS
    matches = fts.c.post_fts.op("MATCH")(sa.bindparam("match"))
    narrowing = _narrowing(
        fts.c.rowid + 0,
        sa.bindparam("tag_name") if by_tag else None,
        sa.bindparam("author") if by_author else None,
        _NOW,
    )
    # rowid + 0 in the filters: a bare rowid IN (...) would drive FTS5 (one
    # full-text query per listed post, seconds for a big tag); the MATCH walk drives.
    score = sa.func.bm25(sa.literal_column("post_fts"), 10.0, 1.0, 5.0, 3.0)
    # FTS5 walks its index newest-first and stops after N rows; bm25 is computed
    # only for those (a LIMITed subquery is materialized, never flattened).
    candidates = (
        sa.select(fts.c.rowid.label("id"), score.label("score"))
        .where(matches, *narrowing)
        .order_by(fts.c.rowid.desc())
        .limit(sa.bindparam("candidates"))
        .subquery("candidates")
    )
    ranked = (
        sa.select(candidates.c.id, candidates.c.score)
        .select_from(candidates.join(post, post.c.id == candidates.c.id))
        .where(public_posts(post, _NOW))
        .order_by(candidates.c.score, candidates.c.id.desc())  # bm25: lower is better
    )
    posts = fts.join(post, post.c.id == fts.c.rowid)
    return _Search(
        count=_count(fts.c.rowid, matches),
        newest=_newest(posts, fts.c.rowid, [matches, *narrowing]),
        ranked=_best(ranked),
    )


def _search_sqlite(text, page, per_page, tag_name, author) -> list[Mapping[Any, Any]]:
    match = terms.fts5_query(text)
    if match is None:
        return []
    # Narrow by tag and author inside the full-text index too: a superset of the
    # exact filters, which lets FTS5 skip most other rows.
    for column, value in (("tags", tag_name), ("author", author)):
        narrowed = terms.fts5_query(f'"{value}"') if value else None
        if narrowed:
            match = f"({match}) AND {column} : {narrowed}"
    statements = once_per_app(_sqlite_search, bool(tag_name), bool(author))
    params = _page_params({"match": match}, page, per_page, tag_name, author)
    if _common(statements.count, params):
        # Words found in many posts: bm25 would read each match's entry in a long
        # doclist (milliseconds) to tell apart posts that all have the word; the
        # newest come first instead, straight off the index.
        return statements.newest.rows(params)
    return statements.ranked.rows({**params, "candidates": _candidates()})


def _postgres_search(by_tag: bool, by_author: bool) -> _Search:
    """Built once per kind and app; the words, filters, time and page are bound when they run.
    Run on the driver (db.prepared), each planned for its words (planned_for_its_values)."""
    search = sa.table("post_search", sa.column("post_id"), sa.column("document"))
    query = sa.func.websearch_to_tsquery("english", sa.bindparam("q"))
    matches = search.c.document.op("@@")(query)
    narrowing = _narrowing(
        search.c.post_id,
        sa.bindparam("tag_name") if by_tag else None,
        sa.bindparam("author") if by_author else None,
        _NOW,
    )
    candidates = (
        sa.select(
            search.c.post_id.label("id"), sa.func.ts_rank(search.c.document, query).label("score")
        )
        .where(matches, *narrowing)
        .order_by(search.c.post_id.desc())
        .limit(sa.bindparam("candidates"))
        .subquery("candidates")
    )
    # Each candidate's visibility is looked up by its id (a LATERAL subquery is run
    # per row): joined as a table, PostgreSQL preferred hashing every visible
    # post's index entry, a cost that grows with the blog (milliseconds at 20,000 posts).
    visible = (
        sa.select(sa.literal(1).label("visible"))
        .where(post.c.id == candidates.c.id, public_posts(post, _NOW))
        .limit(1)
        .lateral("visible")
    )
    ranked = (
        # ts_rank: higher is better; negated to sort as bm25 does.
        sa.select(candidates.c.id, (-candidates.c.score).label("score"))
        .select_from(candidates.join(visible, sa.true()))
        .order_by(candidates.c.score.desc(), candidates.c.id.desc())
    )
    joined = search.join(post, post.c.id == search.c.post_id)
    return _Search(
        count=_count(search.c.post_id, matches, newest_first=True),
        newest=_newest(joined, search.c.post_id, [matches, *narrowing]),
        ranked=_best(ranked),
    )


def _search_postgres(text, page, per_page, tag_name, author) -> list[Mapping[Any, Any]]:
    websearch = terms.websearch_text(text)
    if websearch is None:
        return []
    statements = once_per_app(_postgres_search, bool(tag_name), bool(author))
    params = _page_params({"q": websearch}, page, per_page, tag_name, author)
    with planned_for_its_values(connection()):
        if _common(statements.count, params):
            # As on SQLite: a word in very many posts lists the newest first (ts_rank
            # would read and unpack each candidate's whole document to rank them).
            return statements.newest.rows(params)
        return statements.ranked.rows({**params, "candidates": _candidates()})


# --- comments ------------------------------------------------------------------

#: What a comment result shows: who wrote it, when, under which post.
COMMENT_COLUMNS = (
    comment.c.id,
    comment.c.created_at,
    # A guest's comment has no account. Looked up, not joined: one table fewer to
    # plan, and PostgreSQL plans this statement for its words every time.
    sa.func.coalesce(username_column(comment.c.author_id), comment.c.guest_name).label("username"),
    post.c.id.label("post_id"),
    post.c.title,
    post.c.slug,
    post.c.language,
    comment.c.body,
)
_PARENT = comment.alias("parent")


def _comment_from(index: sa.FromClause, index_id: sa.ColumnElement[int]) -> sa.FromClause:
    """The index joined to each comment, its post and its parent."""
    return (
        index.join(comment, comment.c.id == index_id)
        .join(post, post.c.id == comment.c.post_id)
        .outerjoin(_PARENT, _PARENT.c.id == comment.c.parent_id)
    )


def _comment_seen(now: Any) -> list[sa.ColumnElement[bool]]:
    """The comments every reader sees (policy.visible_comments for a visitor, of the
    comment and of the comment it answers) under a post every reader sees."""
    return [
        # The index holds published comments only (its triggers): "[deleted]" is not in it.
        visible_comments(comment, None, False),
        sa.or_(comment.c.parent_id.is_(None), visible_comments(_PARENT, None, False)),
        public_posts(post, now),
    ]


def _comment_search(
    index: sa.FromClause, index_id: sa.ColumnElement[int], matches: sa.ColumnElement[bool]
) -> Prepared:
    """A page of matching comments every reader sees: the index walked newest first,
    stopping once the page is full. The words, time and page are bound when it runs."""
    return Prepared(
        sa.select(*COMMENT_COLUMNS)
        .select_from(_comment_from(index, index_id))
        .where(matches, *_comment_seen(_NOW))
        .order_by(index_id.desc())
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )


def _sqlite_comment_search() -> Prepared:
    """Built once per app."""
    fts = sa.table("comment_fts", sa.column("rowid"), sa.column("comment_fts"))
    return _comment_search(fts, fts.c.rowid, fts.c.comment_fts.op("MATCH")(sa.bindparam("match")))


def _postgres_comment_search() -> Prepared:
    """Built once per app; planned for its words each time it runs."""
    search = sa.table("comment_search", sa.column("comment_id"), sa.column("document"))
    tsquery = sa.func.websearch_to_tsquery("english", sa.bindparam("q"))
    return _comment_search(search, search.c.comment_id, search.c.document.op("@@")(tsquery))


def search_comments(text: str, *, page: int, per_page: int) -> list[Mapping[Any, Any]]:
    """A page of matching comments that every reader sees, newest first (one more than
    per_page), with their text (COMMENT_COLUMNS)."""
    params = {"now": utcnow(), "limit": per_page + 1, "offset": (page - 1) * per_page}
    if is_sqlite():
        match = terms.fts5_query(text)
        if match is None:
            return []
        return once_per_app(_sqlite_comment_search).rows({**params, "match": match})
    websearch = terms.websearch_text(text)
    if websearch is None:
        return []
    with planned_for_its_values(connection()):
        return once_per_app(_postgres_comment_search).rows({**params, "q": websearch})
