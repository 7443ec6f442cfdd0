"""Issue 13's benchmark: a post with 500 comments against the same post with none.

bench/comments.py [--comments 500] [--duration 5] [--repeat 3] [--pg-url URL]

Builds a fresh database (SQLite, or a new PostgreSQL database beside --pg-url),
writes two posts of the same text by one author, gives the second `--comments`
comments (a fifth of them replies) through flaskr's own queries, and serves it
with `flaskr serve`. wrk then loads each post's page in turn, `--repeat` times,
once with the page cache (visitors' pages kept) and once without it
(PAGE_CACHE_SECONDS=0: every request renders). It prints requests/s for each page
and the ratio, and exits 1 when a ratio is below the target (0.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from measure import fetch, run_wrk, wait_idle
from servers import _flaskr, bench_env, postgres_database, running_server

TARGET = 0.5
BODY = (
    "I read this twice. The part about **caching** is right, and [the docs]"
    "(https://example.org/docs) say the same. One question: does it hold with\n"
    "several workers? *Thanks* for writing it up."
)


def seed(env: dict[str, str], comments: int) -> tuple[int, int]:
    """Two posts by one author, the second with `comments` comments; their ids."""
    os.environ.update(env)
    from flaskr import create_app, markup
    from flaskr.auth.services import register_user
    from flaskr.blog import services
    from flaskr.comments import queries
    from flaskr.db import connection, transaction, utcnow

    app = create_app()
    with app.app_context():
        author = register_user("author", "a long enough pw", role="author")
        readers = [
            register_user(f"reader{n}", "a long enough pw", role="reader") for n in range(20)
        ]
        text = "A post people talk about.\n\n" + "Some paragraph of text. " * 40
        quiet = services.create_post(author, services.Draft(title="Quiet post", body=text))
        busy = services.create_post(author, services.Draft(title="Busy post", body=text))
        html = markup.render_comment(BODY)
        with transaction():
            tops: list[int] = []
            for n in range(comments):
                reply = n % 5 == 4 and tops
                tops_or_reply = queries.insert(
                    post_id=busy,
                    author_id=readers[n % len(readers)],
                    parent_id=tops[-1] if reply else None,
                    body=BODY,
                    body_html=html,
                    status="published",
                    created_at=utcnow(),
                )
                if not reply:
                    tops.append(tops_or_reply)
        if connection().dialect.name == "postgresql":
            # Statistics, as autovacuum gathers within a minute of such a burst of
            # writes: without them the planner guesses the post has one comment.
            with transaction():
                connection().exec_driver_sql("ANALYZE")
    return quiet, busy


def measure(base: str, paths: dict[str, str], args: argparse.Namespace, proc) -> dict[str, float]:
    """Median requests/s of each path, loaded in turn `repeat` times."""
    runs: dict[str, list[float]] = {name: [] for name in paths}
    for path in paths.values():  # warm up: compile templates, fill caches
        status, _, _ = fetch(base + path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        run_wrk(base + path, 1, args.connections, 2)
    for _ in range(args.repeat):
        for name, path in paths.items():
            wait_idle(proc.pid)
            result = run_wrk(base + path, args.duration, args.connections, 2)
            if result.bad_status:
                raise SystemExit(f"{path}: {result.bad_status} answers were not 200")
            runs[name].append(result.rps)
    return {name: statistics.median(values) for name, values in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=500)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", help="a PostgreSQL database to create the bench's beside")
    args = parser.parse_args()
    missed = False
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flaskr-bench-")))
        url = stack.enter_context(postgres_database(args.pg_url)) if args.pg_url else None
        env = bench_env(folder / "bench.sqlite", database_url=url)
        _flaskr(["init-db"], env)
        quiet, busy = seed(env, args.comments)
        paths = {
            "no comments": f"/{quiet}/quiet-post",
            f"{args.comments} comments": f"/{busy}/busy-post",
        }
        print(f"database: {'PostgreSQL' if url else 'SQLite'}; {os.cpu_count()} CPUs")
        for label, settings in (("cached", []), ("uncached", ["PAGE_CACHE_SECONDS=0"])):
            run_env = {**env, **{f"FLASKR_{s.split('=')[0]}": s.split("=")[1] for s in settings}}
            log = folder / f"server-{label}.log"
            with running_server("flaskr", run_env, None, None, log) as (base, proc):
                rps = measure(base, paths, args, proc)
            none, many = rps.values()
            ratio = many / none
            verdict = "ok" if ratio >= TARGET else f"MISSED (target {TARGET})"
            missed |= ratio < TARGET
            print(
                f"{label:9} no comments {none:8.0f} req/s   "
                f"{args.comments} comments {many:8.0f} req/s   ratio {ratio:.2f}  {verdict}"
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
