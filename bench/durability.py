#!/usr/bin/env python3
"""What SQLITE_SYNCHRONOUS=FULL costs: posts created per second, FULL and NORMAL, one run.

Usage: bench/durability.py [--posts N] [--rounds R] [--threads T] [--dir PATH]

Each round creates N posts through the blog's service layer (validation,
Markdown, revision bookkeeping, tags, one write transaction each: what a save
in the editor does) on a fresh SQLite file per setting, the settings taking
turns so a busy moment on a shared machine hits both alike. --threads runs
that many writers at once (they queue for SQLite's write lock). --dir puts
the databases on the disk to measure (default: a temporary folder).
For scale, each round also times bare one-row commits (no flaskr code) with
the same pragmas: the cost of the sync itself.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import threading
import time

from flaskr import create_app
from flaskr.auth.services import register_user
from flaskr.blog import services
from flaskr.schema import upgrade_db

SETTINGS = ("FULL", "NORMAL")
BODY = "A paragraph with *some* Markdown and a [link](https://example.org).\n\n" * 5


def one_round(folder: str, setting: str, posts: int, threads: int) -> float:
    """Create posts on a fresh database with this setting; return posts per second."""
    path = os.path.join(folder, f"bench-{setting}-{time.monotonic_ns()}.sqlite")
    app = create_app(
        {"TESTING": True, "DATABASE": path, "SQLITE_SYNCHRONOUS": setting, "AUTO_MIGRATE": False}
    )
    with app.app_context():
        upgrade_db()
        author = register_user("writer", "a long enough pw")

    def write(count: int) -> None:
        with app.app_context():
            for i in range(count):
                draft = services.Draft(title=f"Post {i}", body=BODY, tags="bench durability")
                services.create_post(author, draft)

    workers = [threading.Thread(target=write, args=(posts // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    app.extensions["flaskr.engine"].dispose()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return (posts // threads * threads) / elapsed


def bare_commits(folder: str, setting: str, count: int = 2000) -> float:
    """One-row write transactions per second with flaskr's pragmas and nothing else."""
    path = os.path.join(folder, f"bare-{setting}-{time.monotonic_ns()}.sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={setting}")
    conn.execute("CREATE TABLE t (x INTEGER)")
    started = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?)", (i,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    folder = args.dir or tempfile.mkdtemp(prefix="flaskr-durability-")
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load {os.getloadavg()[0]:.1f}, folder {folder}"
    )
    results: dict[str, list[float]] = {setting: [] for setting in SETTINGS}
    bare: dict[str, list[float]] = {setting: [] for setting in SETTINGS}
    for number in range(args.rounds):
        for setting in SETTINGS if number % 2 == 0 else reversed(SETTINGS):
            rate = one_round(folder, setting, args.posts, args.threads)
            results[setting].append(rate)
            bare[setting].append(bare_commits(folder, setting))
            print(
                f"round {number + 1} {setting:6} {rate:8.1f} posts/s"
                f"   bare commits {bare[setting][-1]:9.1f}/s"
            )
    print(f"load after {os.getloadavg()[0]:.1f}")
    for setting in SETTINGS:
        rates = results[setting]
        print(
            f"{setting:6} median {statistics.median(rates):8.1f} posts/s "
            f"(min {min(rates):.1f}, max {max(rates):.1f}, {len(rates)} rounds of {args.posts}, "
            f"{args.threads} writer(s)); bare commits median "
            f"{statistics.median(bare[setting]):.1f}/s"
        )
    full, normal = (statistics.median(results[s]) for s in SETTINGS)
    bare_full, bare_normal = (statistics.median(bare[s]) for s in SETTINGS)
    print(
        f"FULL is {full / normal:.2f}x the post rate of NORMAL "
        f"({bare_full / bare_normal:.2f}x for bare commits)"
    )


if __name__ == "__main__":
    main()
