"""`demo-data`: realistic users, tags and posts in bulk, for trying flaskr out and benchmarks."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from flaskr import markup
from flaskr.auth.passwords import hash_password
from flaskr.auth.tables import user
from flaskr.auth.usernames import skeleton_key
from flaskr.blog.tables import post
from flaskr.db import engine, unbounded, utcnow
from flaskr.schema import upgrade_db
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
BATCH = 5000


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

    def __init__(self, seed: int, tag_count: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo text, not secrets
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


def _tag_names(count: int) -> list[str]:
    names = [word for word in VOCABULARY if len(word) > 3][:count]
    return names + [f"topic-{i}" for i in range(len(names), count)]


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


def _insert_batch(conn: sa.Connection, rows: list[dict], links: list[dict]) -> None:
    if conn.dialect.name == "sqlite" and links:
        # Tags first, so each post's search document is written once, with its
        # tags, instead of being rewritten per tag (foreign keys are checked at commit).
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(sa.insert(post_tag), links)
        conn.execute(sa.insert(post), rows)
        return
    conn.execute(sa.insert(post), rows)
    if links:
        conn.execute(sa.insert(post_tag), links)


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
@with_appcontext
def demo_data_command(users: int, posts: int, tags: int, seed: int) -> None:
    """Add generated users, tags and posts (fast, in bulk) to the database."""
    writer = _Writer(seed, tags)
    upgrade_db()
    password = hash_password(DEMO_PASSWORD)  # one hash for all: hashing is slow by design
    now = utcnow()
    with engine().connect() as conn, unbounded(conn):
        conn.info["write"] = True
        with conn.begin():
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
            author_ids = list(
                conn.execute(sa.select(user.c.id).where(user.c.username.in_(names))).scalars()
            )
            wanted = _tag_names(tags)
            existing = set(conn.execute(sa.select(tag.c.name)).scalars())
            missing = [{"name": name} for name in wanted if name not in existing]
            if missing:
                conn.execute(sa.insert(tag), missing)
            by_name = dict(conn.execute(sa.select(tag.c.name, tag.c.id)).all())
            tag_ids = [by_name[name] for name in wanted]
            next_id = _first_free_post_id(conn)
        with click.progressbar(length=posts, label=f"Writing {posts} posts") as bar:
            for offset in range(0, posts, BATCH):
                rows, links = [], []
                for i in range(offset, min(offset + BATCH, posts)):
                    body = writer.body()
                    body_html = markup.render(body)
                    published = now - timedelta(minutes=10 * (posts - i))
                    post_id = next_id + i
                    rows.append(
                        {
                            "id": post_id,
                            "author_id": writer.rng.choice(author_ids),
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
                    links += [
                        {
                            "post_id": post_id,
                            "tag_id": tag_ids[t],
                            "status": "published",
                            "published_at": published,
                        }
                        for t in writer.tag_indexes()
                    ]
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
                    {"last": next_id + posts - 1},
                )
    click.echo(
        f"Added {users} users, {tags} tags and {posts} posts. "
        f"Every demo user's password is {DEMO_PASSWORD!r}."
    )
