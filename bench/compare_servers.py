#!/usr/bin/env python3
"""Which production server should `flaskr serve` use? Same app, same DB, /hello and /.

Usage: bench/compare_servers.py [--posts N] [--duration S] [--repeat R] [--ref HEAD]
Every configuration runs at the same time on its own port (idle ones cost no CPU), and
the wrk runs go round-robin over them, so a slow moment of the machine hits all alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from endpoints import Endpoint
from measure import MemorySampler, run_wrk, wait_idle
from run import Measured, machine
from servers import build_database, running_server, server_command, snapshot

CORES = os.cpu_count() or 1
#: (server, workers, threads): the candidates issue 2 asks to compare.
CONFIGS = [
    ("gunicorn-sync", 2 * CORES + 1, 1),
    ("gunicorn-sync", CORES, 1),
    ("gunicorn-gthread", CORES, 4),
    ("gunicorn-gthread", 2 * CORES + 1, 2),
    ("granian", CORES, 1),
    ("granian", CORES, 4),
    ("granian", 2 * CORES + 1, 1),
]
PATHS = ("/hello", "/")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ref", help="benchmark this git ref instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the DB and server logs")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a flaskr setting for the servers (repeatable)",
    )
    parser.add_argument(
        "--close",
        action="store_true",
        help='send "Connection: close" (no keep-alive, like nginx upstreams)',
    )
    return parser.parse_args()


def main() -> int:
    """Measure every configuration and print one Markdown table."""
    args = parse_args()
    with ExitStack() as stack:
        if args.keep:
            work = tempfile.mkdtemp(prefix="flaskr-servers-")
            print(f"# keeping {work}", file=sys.stderr)
        else:
            work = stack.enter_context(tempfile.TemporaryDirectory(prefix="flaskr-servers-"))
        source, commit = snapshot(args.ref, Path(work) / "src") if args.ref else (None, "")
        env, seed = build_database(Path(work), args.posts, 0, source, args.set)
        servers = []
        for kind, workers, threads in CONFIGS:
            base, proc = stack.enter_context(
                running_server(kind, env, workers, threads, Path(work) / "servers.log")
            )
            memory = stack.enter_context(MemorySampler(proc.pid, interval=1.0))
            command = server_command(kind, 0, workers, threads)
            label = " ".join([Path(command[0]).name, *command[1:]]).replace(":0 ", ":PORT ")
            label = label.replace("--port 0 ", "--port PORT ")
            results = [Measured(Endpoint(path, path)) for path in PATHS]
            servers.append((kind, workers, threads, label, base, proc, memory, results))
        for *_, base, proc, _, results in servers:
            for m in results:
                run_wrk(
                    base + m.endpoint.path,
                    args.warmup,
                    args.connections,
                    args.wrk_threads,
                    args.close,
                )
                wait_idle(proc.pid)
        for _ in range(args.repeat):
            for *_, base, proc, _, results in servers:
                for m in results:
                    m.runs.append(
                        run_wrk(
                            base + m.endpoint.path,
                            args.duration,
                            args.connections,
                            args.wrk_threads,
                            args.close,
                        )
                    )
                    wait_idle(proc.pid)
        print(f"## Servers, {time.strftime('%Y-%m-%d %H:%M')} - {machine()}\n")
        print(f"Load average (1/5/15 min) at the end: {Path('/proc/loadavg').read_text()[:14]}\n")
        source_text = f"git {args.ref} ({commit})" if args.ref else "working tree"
        print(
            f"Source: {source_text}; DB: `{seed}`; wrk -t{args.wrk_threads} "
            f"-c{args.connections} -d{args.duration}s, {args.repeat} runs each, round-robin, "
            f"{'Connection: close' if args.close else 'keep-alive'}; settings: "
            f"{', '.join(args.set) or 'defaults'}.\n"
        )
        print(
            "| server | workers | threads | /hello req/s (runs) | / req/s (runs) | / ratio | "
            "non-2xx | socket errors | / p99 ms | peak RSS MiB (PSS) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, workers, threads, _, _, _, memory, (hello, index) in servers:
            errors = sum(r.socket_errors for m in (hello, index) for r in m.runs)
            p99 = max(r.p99_ms for r in index.runs)
            print(
                f"| {kind} | {workers} | {threads} | {hello.rps:,.0f} ({hello.spread()}) | "
                f"{index.rps:,.0f} ({index.spread()}) | {index.rps / hello.rps:.1%} | "
                f"{hello.bad_status + index.bad_status} | {errors} | {p99:.0f} | "
                f"{memory.peak_rss_kib / 1024:.0f} ({memory.peak_pss_kib / 1024:.0f}) |"
            )
        print("\nCommands:\n")
        for *_, label, _, _, _, _ in servers:
            print(f"- `{label}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
