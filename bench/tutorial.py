"""The Flask tutorial's own blog, the yardstick: unpacked from the Flask sdist at bench time.

Its code is downloaded, never committed: `pip download flask==<installed> --no-binary
:all: --no-deps`, then examples/tutorial. It gets a database with one user and
`posts` posts and a /hello route like the tutorial's (added by a wrapper module,
the example's files stay as they are).
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import tarfile
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path

#: The wrapper granian serves: the example's factory, plus the tutorial's /hello
#: if this version of the example does not have it.
WRAPPER = '''\
"""The tutorial app with the /hello route the tutorial describes."""

from flaskr import create_app as _create_app


def create_app():
    app = _create_app()
    if not any(rule.rule == "/hello" for rule in app.url_map.iter_rules()):
        # a simple page that says hello
        @app.route("/hello")
        def hello():
            return "Hello, World!"

    return app
'''
WRAPPER_MODULE = "bench_tutorial"
WORDS = [
    "flask", "python", "blog", "garden", "coffee", "travel", "music", "winter", "summer",
    "river", "mountain", "city", "library", "code", "server", "cache", "query", "index",
]  # fmt: skip


def download_sdist(folder: Path) -> Path:
    """The sdist of the Flask installed here, downloaded into folder."""
    flask_version = version("flask")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", f"flask=={flask_version}",
         "--no-binary", ":all:", "--no-deps", "--quiet", "--dest", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(
            f"pip could not download the Flask {flask_version} sdist:\n{done.stderr}"
            "Pass one with --tutorial-sdist, or leave the tutorial out with --no-tutorial."
        )
    (sdist,) = folder.glob(f"flask-{flask_version}.tar.gz")
    return sdist


def unpack(sdist: Path, folder: Path) -> Path:
    """examples/tutorial of the sdist, extracted into folder/tutorial."""
    target = folder / "tutorial"
    with tarfile.open(sdist) as archive:
        members = []
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if parts[1:3] == ("examples", "tutorial") and len(parts) > 3:
                member.name = str(Path(*parts[3:]))
                members.append(member)
        if not members:
            raise RuntimeError(f"{sdist.name} has no examples/tutorial")
        archive.extractall(target, members=members, filter="data")
    return target


def seed(database: Path, posts: int) -> None:
    """The tutorial's schema with one user and `posts` posts of a few sentences each."""
    rng = random.Random(1)  # noqa: S311 - sample text

    def sentence(low: int, high: int) -> str:
        return " ".join(rng.choices(WORDS, k=rng.randint(low, high))).capitalize()

    start = datetime(2026, 1, 1)
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as db:
        db.executescript((database.parent.parent / "flaskr" / "schema.sql").read_text("utf8"))
        # Any hash: nobody logs in during the benchmark.
        db.execute("INSERT INTO user (username, password) VALUES ('demo', 'x')")
        db.executemany(
            "INSERT INTO post (author_id, created, title, body) VALUES (1, ?, ?, ?)",
            [
                (
                    (start + timedelta(minutes=10 * i)).isoformat(" "),
                    sentence(3, 8),
                    " ".join(sentence(6, 14) + "." for _ in range(rng.randint(3, 8))),
                )
                for i in range(posts)
            ],
        )
    # Autocommitted by the context manager; closing is separate in sqlite3.
    db.close()


def prepare(folder: Path, posts: int, sdist: Path | None = None) -> tuple[Path, str]:
    """Unpack and seed the tutorial app; its folder and the factory for granian."""
    sdist = sdist or download_sdist(folder)
    app_folder = unpack(sdist, folder)
    (app_folder / f"{WRAPPER_MODULE}.py").write_text(WRAPPER, encoding="utf-8")
    # instance_relative_config: the example keeps its database in <folder>/instance.
    seed(app_folder / "instance" / "flaskr.sqlite", posts)
    return app_folder, f"{WRAPPER_MODULE}:create_app"
