"""`demo-data`: realistic users and posts in bulk, for trying flaskr out and benchmarks."""

from __future__ import annotations

import random
from datetime import timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from flaskr import markup
from flaskr.auth.passwords import hash_password
from flaskr.auth.tables import user
from flaskr.blog.tables import post
from flaskr.db import engine, upgrade_db, utcnow

WORDS = (
    "flask python blog garden coffee travel music winter summer river mountain city "
    "library code server cache query index design paper notebook bicycle kitchen bread "
    "morning evening light shadow window letter friend story journey harbor forest "
    "market village station bridge island lantern signal engine compass meadow thunder"
).split()
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed to the user; demo accounts only
BATCH = 5000


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize()


def _body(rng: random.Random) -> str:
    paragraphs = [
        " ".join(_sentence(rng, 6, 14) + "." for _ in range(rng.randint(2, 4)))
        for _ in range(rng.randint(1, 3))
    ]
    if rng.random() < 0.3:
        paragraphs.insert(1, f"## {_sentence(rng, 2, 4)}")
    if rng.random() < 0.2:
        paragraphs.append("- " + "\n- ".join(_sentence(rng, 2, 5) for _ in range(3)))
    return "\n\n".join(paragraphs)


@click.command("demo-data")
@click.option("--users", default=10, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--posts", default=100, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
@with_appcontext
def demo_data_command(users: int, posts: int, seed: int) -> None:
    """Add generated users and posts (fast, in bulk) to the database."""
    rng = random.Random(seed)
    upgrade_db()
    password = hash_password(DEMO_PASSWORD)  # one hash for all: hashing is slow by design
    now = utcnow()
    with engine().connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(user.c.id), 0))).scalar()
            names = [f"demo{start + i + 1}" for i in range(users)]
            conn.execute(
                sa.insert(user),
                [{"username": name, "password": password, "created": now} for name in names],
            )
            author_ids = list(
                conn.execute(sa.select(user.c.id).where(user.c.username.in_(names))).scalars()
            )
        with click.progressbar(length=posts, label=f"Writing {posts} posts") as bar:
            for offset in range(0, posts, BATCH):
                rows = []
                for i in range(offset, min(offset + BATCH, posts)):
                    body = _body(rng)
                    published = now - timedelta(minutes=10 * (posts - i))
                    rows.append(
                        {
                            "author_id": rng.choice(author_ids),
                            "title": _sentence(rng, 3, 8),
                            "body": body,
                            "body_html": markup.render(body),
                            "render_version": markup.RENDER_VERSION,
                            "created": published,
                            "published_at": published,
                            "status": "published",
                        }
                    )
                with conn.begin():
                    conn.execute(sa.insert(post), rows)
                bar.update(len(rows))
    click.echo(f"Added {users} users and {posts} posts. Every demo user's password is {DEMO_PASSWORD!r}.")
