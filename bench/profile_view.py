#!/usr/bin/env python3
"""Where does a page's time go? Time it under the test client, with its SQL and query plans.

Usage: FLASKR_DATABASE=bench.sqlite FLASKR_SECRET_KEY=... bench/profile_view.py PATH [PATH ...]
       [--requests N] [--profile] [--plans]
Runs in one process (no server, no wrk), so the numbers are the app's own cost per request.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from flaskr import create_app
from flaskr.db import engine


class SqlLog:
    """Every statement the engine runs, with the time it took."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.params: dict[str, Any] = {}
        self._started: list[float] = []

    def before(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        """Note when a statement starts."""
        self._started.append(time.perf_counter())
        self.params[statement] = params

    def after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        """Note how long the statement took."""
        self.times[statement].append(time.perf_counter() - self._started.pop())


def main() -> int:
    """Time, profile and explain the given paths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--plans", action="store_true", help="EXPLAIN QUERY PLAN each statement")
    args = parser.parse_args()
    app = create_app()
    client = app.test_client()
    with app.app_context():
        log = SqlLog()
        sa.event.listen(engine(), "before_cursor_execute", log.before)
        sa.event.listen(engine(), "after_cursor_execute", log.after)
    for path in args.paths:
        status = client.get(path).status_code  # first request: migrations, caches
        log.times.clear()
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(path)
        per_request = (time.perf_counter() - started) / args.requests * 1000
        sql_ms = sum(sum(t) for t in log.times.values()) / args.requests * 1000
        count = sum(len(t) for t in log.times.values()) / args.requests
        print(
            f"\n## {path}: status {status}, {per_request:.2f} ms/request, "
            f"SQL {sql_ms:.2f} ms in {count:.0f} statements"
        )
        for statement, times in sorted(log.times.items(), key=lambda kv: -sum(kv[1])):
            one = " ".join(statement.split())
            print(
                f"- {sum(times) / len(times) * 1000:.2f} ms x{len(times) // args.requests}: "
                f"{one[:300]}"
            )
            if args.plans and one.upper().startswith("SELECT"):
                _explain(app, statement, log.params[statement])
        if args.profile:
            profiler = cProfile.Profile()
            for _ in range(args.requests):
                profiler.runcall(client.get, path)
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(20)
            # The app's own functions by cumulative time: which step of the view costs what.
            stats.sort_stats("cumulative").print_stats(r"flaskr/|jinja2/environment|flask/app", 25)
    return 0


def _explain(app: Any, statement: str, params: Any) -> None:
    """Print SQLite's plan for one statement."""
    with app.app_context(), engine().connect() as conn:
        cursor = conn.connection.driver_connection.execute(
            "EXPLAIN QUERY PLAN " + statement, params
        )
        for row in cursor.fetchall():
            print(f"    plan: {row[3]}")


if __name__ == "__main__":
    sys.exit(main())
