"""`demo-data`: realistic users, tags and posts in bulk, for trying flaskr out and benchmarks."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from flaskr import markup
from flaskr.auth.passwords import hash_password
from flaskr.auth.tables import user
from flaskr.auth.usernames import skeleton_key
from flaskr.blog.tables import post
from flaskr.db import bulk_load, engine, refresh_statistics, utcnow
from flaskr.schema import upgrade_db
from flaskr.tags.queries import NAME_SEPARATOR
from flaskr.tags.tables import post_tag, tag

WORDS = [
    "flask",
    "python",
    "blog",
    "garden",
    "coffee",
    "travel",
    "music",
    "winter",
    "summer",
    "river",
    "mountain",
    "city",
    "library",
    "code",
    "server",
    "cache",
    "query",
    "index",
    "design",
    "paper",
    "notebook",
    "bicycle",
    "kitchen",
    "bread",
    "morning",
    "evening",
    "light",
    "shadow",
    "window",
    "letter",
    "friend",
    "story",
    "journey",
    "harbor",
    "forest",
    "market",
    "village",
    "station",
    "bridge",
    "island",
    "lantern",
    "signal",
    "engine",
    "compass",
    "meadow",
    "thunder",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "va",
    "shi",
    "pel",
    "dun",
    "ar",
    "ose",
    "ix",
    "bel",
    "cor",
    "fen",
    "gal",
    "hul",
    "jin",
    "mar",
    "nox",
]
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed to the user; demo accounts only
#: Posts made together (by one worker process) and written in one transaction.
#: Each chunk has its own random generator, so the data depends on the seed
#: alone, not on how many processes made it or in which order they finished.
CHUNK = 5000

Rows = list[dict[str, Any]]


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Real words first, then made-up ones; drawn with Zipf weights (a few common, most rare)."""
    words = list(WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


VOCABULARY = _vocabulary(random.Random(0))  # noqa: S311 - demo text, not secrets
ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))


class _Writer:
    """Sentences, bodies and tag picks from one seeded random generator."""

    def __init__(self, rng: random.Random, tag_count: int) -> None:
        self.rng = rng
        self.tag_weights = list(itertools.accumulate(1 / r for r in range(1, tag_count + 1)))

    def sentence(self, low: int, high: int) -> str:
        words = self.rng.choices(VOCABULARY, cum_weights=ZIPF, k=self.rng.randint(low, high))
        return " ".join(words).capitalize()

    def body(self) -> str:
        rng = self.rng
        paragraphs = [
            " ".join(self.sentence(6, 14) + "." for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.3:
            paragraphs.insert(1, f"## {self.sentence(2, 4)}")
        if rng.random() < 0.2:
            paragraphs.append("- " + "\n- ".join(self.sentence(2, 5) for _ in range(3)))
        return "\n\n".join(paragraphs)

    def tag_indexes(self) -> set[int]:
        if not self.tag_weights:
            return set()
        picks = self.rng.choices(range(len(self.tag_weights)), cum_weights=self.tag_weights, k=3)
        return set(picks[: self.rng.randint(0, 3)])


@dataclass(frozen=True)
class _Plan:
    """What making any chunk of posts needs; pickled to the worker processes."""

    seed: int
    posts: int
    first_id: int
    now: datetime
    author_ids: tuple[int, ...]
    tag_ids: tuple[int, ...]
    #: The tags' names, in the order of tag_ids.
    tag_names: tuple[str, ...]


def _make_chunk(plan: _Plan, start: int, stop: int) -> tuple[Rows, Rows]:
    """Posts start..stop-1 of the plan (rendered) and their tag links."""
    rng = random.Random(f"{plan.seed}:{start}")  # noqa: S311 - demo text, not secrets
    writer = _Writer(rng, len(plan.tag_ids))
    rows, links = [], []
    for i in range(start, stop):
        body = writer.body()
        body_html = markup.render(body)
        # Ten minutes apart, the newest now: the same spacing at every size.
        published = plan.now - timedelta(minutes=10 * (plan.posts - i))
        post_id = plan.first_id + i
        rows.append(
            {
                "id": post_id,
                "author_id": rng.choice(plan.author_ids),
                "title": writer.sentence(3, 8),
                "body": body,
                "body_html": body_html,
                "summary": markup.summarize_html(body_html),
                "render_version": markup.RENDER_VERSION,
                "created": published,
                "published_at": published,
                "status": "published",
            }
        )
        chosen = sorted(writer.tag_indexes())
        links += [
            {
                "post_id": post_id,
                "tag_id": plan.tag_ids[t],
                "status": "published",
                "published_at": published,
            }
            for t in chosen
        ]
        # What the triggers would write, written at once: on SQLite the tags go in
        # first (_insert_batch), and a post bringing its names skips the lookup.
        rows[-1]["tag_names"] = NAME_SEPARATOR.join(plan.tag_names[t] for t in chosen) or None
    return rows, links


def _chunks(plan: _Plan, workers: int) -> Iterator[tuple[Rows, Rows]]:
    """Every chunk of the plan in order, made by `workers` processes ahead of the writer."""
    bounds = [(start, min(start + CHUNK, plan.posts)) for start in range(0, plan.posts, CHUNK)]
    if workers <= 1 or len(bounds) <= 1:
        for start, stop in bounds:
            yield _make_chunk(plan, start, stop)
        return
    # spawn, not fork: the parent holds a database connection and may run threads.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    todo = iter(bounds)
    pending: deque[Future[tuple[Rows, Rows]]] = deque()
    try:
        # A few chunks in flight per worker: enough to keep them busy, while the
        # chunks waiting for the writer stay few (each holds CHUNK rendered posts).
        for start, stop in itertools.islice(todo, 2 * workers):
            pending.append(pool.submit(_make_chunk, plan, start, stop))
        while pending:
            chunk = pending.popleft().result()
            following = next(todo, None)
            if following:
                pending.append(pool.submit(_make_chunk, plan, *following))
            yield chunk
    finally:
        pool.shutdown(cancel_futures=True)


def _first_free_post_id(conn: sa.Connection) -> int:
    """An id above every post id ever handed out, deleted posts' included."""
    if conn.dialect.name == "postgresql":
        reserve = sa.text("SELECT nextval(pg_get_serial_sequence('post', 'id'))")
        return conn.execute(reserve).scalar_one()
    # SQLite remembers the largest id an AUTOINCREMENT table ever held.
    return conn.execute(
        sa.text(
            "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'post'), 0), "
            "COALESCE((SELECT MAX(id) FROM post), 0)) + 1"
        )
    ).scalar_one()


def _insert_batch(conn: sa.Connection, rows: Rows, links: Rows) -> None:
    if conn.dialect.name == "sqlite" and links:
        # Tags first, so each post's search document is written once, with its
        # tags, instead of being rewritten per tag (foreign keys are checked at commit).
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(sa.insert(post_tag), links)
        conn.execute(sa.insert(post), rows)
        return
    conn.execute(sa.insert(post), rows)
    if links:
        # One statement for the batch's links (not one per row, as executemany sends
        # them): PostgreSQL's tag-names trigger runs once per statement.
        conn.execute(sa.insert(post_tag).values(links))


def _add_users_and_tags(
    conn: sa.Connection, users: int, tags: int
) -> tuple[list[str], list[int], list[tuple[int, str]]]:
    """Create the demo accounts and any missing tags; the accounts' names, their ids, the
    tags' (id, name)."""
    password = hash_password(DEMO_PASSWORD)  # one hash for all: hashing is slow by design
    now = utcnow()
    last_user = sa.select(sa.func.coalesce(sa.func.max(user.c.id), 0))
    start = conn.execute(last_user).scalar_one()
    names = [f"demo{start + i + 1}" for i in range(users)]
    conn.execute(
        sa.insert(user),
        [
            {
                "username": name,
                "username_skeleton": skeleton_key(name),
                "password": password,
                "created": now,
            }
            for name in names
        ],
    )
    # In id order: the seeded generator picks authors by position.
    new_users = sa.select(user.c.id).where(user.c.username.in_(names)).order_by(user.c.id)
    author_ids = list(conn.execute(new_users).scalars())
    wanted = _tag_names(tags)
    existing = set(conn.execute(sa.select(tag.c.name)).scalars())
    missing = [{"name": name} for name in wanted if name not in existing]
    if missing:
        conn.execute(sa.insert(tag), missing)
    by_name = dict(conn.execute(sa.select(tag.c.name, tag.c.id)).all())
    return names, author_ids, [(by_name[name], name) for name in wanted]


def _tag_names(count: int) -> list[str]:
    names = [word for word in VOCABULARY if len(word) > 3][:count]
    return names + [f"topic-{i}" for i in range(len(names), count)]


@click.command("demo-data")
@click.option("--users", default=10, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--posts", default=100, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option(
    "--tags",
    default=50,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Distinct tags; each post gets up to 3.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
@click.option(
    "--workers",
    default=lambda: os.cpu_count() or 1,
    show_default="one per CPU",
    type=click.IntRange(1, 64),
    help="Processes writing post text (the data does not depend on it).",
)
@with_appcontext
def demo_data_command(users: int, posts: int, tags: int, seed: int, workers: int) -> None:
    """Add generated users, tags and posts (fast, in bulk) to the database."""
    upgrade_db()
    with engine().connect() as conn, bulk_load(conn):
        conn.info["write"] = True
        with conn.begin():
            names, author_ids, tag_list = _add_users_and_tags(conn, users, tags)
            first_id = _first_free_post_id(conn)
        tag_ids = tuple(tag_id for tag_id, _ in tag_list)
        tag_names = tuple(name for _, name in tag_list)
        plan = _Plan(seed, posts, first_id, utcnow(), tuple(author_ids), tag_ids, tag_names)
        with click.progressbar(length=posts, label=f"Writing {posts:,} posts") as bar:
            for rows, links in _chunks(plan, workers):
                with conn.begin():
                    _insert_batch(conn, rows, links)
                bar.update(len(rows))
        if conn.dialect.name == "postgresql" and posts:
            with conn.begin():
                # Explicit ids leave the id sequence behind; move it past them,
                # never back (that would hand out a deleted post's id again).
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('post', 'id'), GREATEST(:last, "
                        "pg_sequence_last_value(pg_get_serial_sequence('post', 'id'))))"
                    ),
                    {"last": first_id + posts - 1},
                )
    click.echo("Updating the query planner's statistics...")
    refresh_statistics()
    accounts = ", ".join(names) if len(names) <= 3 else f"{names[0]} to {names[-1]}"
    click.echo(f"Added {users} users ({accounts}), {tags} tags and {posts} posts.")
    click.echo(f"Log in as any of them with the password {DEMO_PASSWORD!r}.")
