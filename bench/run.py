"""Seed N posts, serve them with `flaskr serve`, and measure every page with wrk in one run.

Usage: bench/run.sh [--posts N] [--tags N] [--duration S] [--connections C] [...]
Prints Markdown tables and the issue targets; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from endpoints import Endpoint, discover, timed_get
from measure import MemorySampler, WrkResult, run_wrk, wait_idle
from servers import build_database, running_server, snapshot

SMALL_POSTS = 100  # the "/ with 100 posts" the big index is compared with
#: A page this slow alone would drown the server in a backlog that outlasts wrk's
#: run and spoils the next endpoint's numbers; it is reported, not load-tested.
TOO_SLOW_MS = 500


@dataclass
class Measured:
    """All runs of one endpoint in one pass."""

    endpoint: Endpoint
    runs: list[WrkResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.mean(r.rps for r in self.runs)

    @property
    def bad_status(self) -> int:
        return sum(r.bad_status for r in self.runs)

    def bad_text(self) -> str:
        """How many responses were not 2xx, and which statuses they had."""
        codes: dict[int, int] = {}
        for run in self.runs:
            for code, n in run.statuses.items():
                if not 200 <= code < 300:
                    codes[code] = codes.get(code, 0) + n
        detail = ", ".join(f"{n} x {code}" for code, n in sorted(codes.items()))
        return f"{self.bad_status} ({detail})" if codes else "0"

    def spread(self) -> str:
        """The lowest and highest requests/s of the runs."""
        values = [r.rps for r in self.runs]
        return f"{min(values):,.0f}-{max(values):,.0f}"


@dataclass
class Pass:
    """One database size served by one server, every endpoint measured."""

    posts: int
    seed_command: str
    server_command: str
    base: str = field(repr=False)
    pid: int = field(repr=False)
    memory: MemorySampler = field(repr=False)
    results: list[Measured] = field(default_factory=list)
    too_slow: list[Endpoint] = field(default_factory=list)

    def get(self, label: str) -> Measured | None:
        return next((m for m in self.results if m.endpoint.label == label), None)

    @property
    def hello(self) -> float:
        """The baseline's requests/s; a server that answered nothing makes ratios meaningless."""
        rps = self.get("/hello").rps  # type: ignore[union-attr]
        if not rps:
            raise RuntimeError("/hello got no answers: the server was stuck or down")
        return rps

    def summary(self) -> dict[str, object]:
        """What --json writes about this pass."""
        return {
            "posts": self.posts,
            "seed_command": self.seed_command,
            "server_command": self.server_command,
            "peak_rss_mib": self.memory.peak_rss_kib / 1024,
            "peak_pss_mib": self.memory.peak_pss_kib / 1024,
            "results": [
                {"endpoint": asdict(m.endpoint), "runs": [asdict(r) for r in m.runs]}
                for m in self.results
            ],
            "too_slow": [asdict(e) for e in self.too_slow],
        }


def machine() -> str:
    """Cores, CPU model and Python version, as RESULTS.md records them."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def start_pass(
    args: argparse.Namespace, posts: int, full: bool, work: Path, stack: ExitStack
) -> Pass:
    """Build a database of `posts` posts, serve it, find and warm up its endpoints."""
    folder = Path(tempfile.mkdtemp(prefix=f"posts{posts}-", dir=work))
    started = time.monotonic()
    env, seed_command = build_database(folder, posts, args.tags, args.source, args.set)
    print(
        f"# seeded {posts} posts in {time.monotonic() - started:.1f}s: {seed_command}",
        file=sys.stderr,
    )
    server = running_server(args.server, env, args.workers, args.threads, folder / "server.log")
    base, proc = stack.enter_context(server)
    command = " ".join(p.split("/")[-1] if i == 0 else p for i, p in enumerate(proc.args))
    memory = stack.enter_context(MemorySampler(proc.pid))
    run = Pass(posts, seed_command, command, base, proc.pid, memory)
    endpoints = discover(base, posts, full)
    for endpoint in endpoints:
        endpoint.probe_ms = timed_get(base, endpoint.path)
    print(f"# measuring {', '.join(e.path for e in endpoints)}", file=sys.stderr)
    run.results = [Measured(e) for e in endpoints if e.probe_ms < TOO_SLOW_MS]
    run.too_slow = [e for e in endpoints if e.probe_ms >= TOO_SLOW_MS]
    for measured in run.results:  # warm up: first requests migrate, fill caches, fork threads
        run_wrk(base + measured.endpoint.path, args.warmup, args.connections,
                args.wrk_threads, args.close)  # fmt: skip
        wait_idle(proc.pid)
    for measured in run.results:  # now that every worker has seen the page
        measured.endpoint.probe_ms = timed_get(base, measured.endpoint.path, times=10)
    return run


def measure(args: argparse.Namespace, runs: list[Pass]) -> None:
    """wrk every endpoint of every pass, round-robin, `repeat` times.

    Interleaved, so a slow moment of the shared machine hits every endpoint and
    both database sizes alike, and the 100-post and big index compare fairly.
    """
    for _ in range(args.repeat):
        for run in runs:
            for measured in run.results:
                url = run.base + measured.endpoint.path
                measured.runs.append(
                    run_wrk(url, args.duration, args.connections, args.wrk_threads, args.close)
                )
                wait_idle(run.pid)


def table(run: Pass) -> str:
    """One pass as a Markdown table."""
    lines = [
        "| endpoint | path | req/s (mean) | runs min-max | ratio to /hello | non-2xx | "
        "p50 ms | p99 ms | lone request ms (best of 10, warm) | wrk CPU (% of a core) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in run.results:
        p50 = statistics.mean(r.p50_ms for r in m.runs)
        p99 = statistics.mean(r.p99_ms for r in m.runs)
        seconds = sum(float(r.requests) / r.rps for r in m.runs if r.rps)
        wrk_cpu = 100 * sum(r.wrk_cpu_s for r in m.runs) / seconds if seconds else 0.0
        lines.append(
            f"| {m.endpoint.label} | `{m.endpoint.path}` | {m.rps:,.0f} | {m.spread()} | "
            f"{m.rps / run.hello:.1%} | {m.bad_text()} | {p50:.1f} | {p99:.1f} | "
            f"{m.endpoint.probe_ms:.1f} | {wrk_cpu:.0f} |"
        )
    for e in run.too_slow:
        lines.append(
            f"| {e.label} | `{e.path}` | not load-tested: one request alone took "
            f"{e.probe_ms:,.0f} ms | | | | | | | |"
        )
    lines.append(
        f"\nServer `{run.server_command}`: {run.memory.processes} processes, peak RSS "
        f"{run.memory.peak_rss_kib / 1024:.0f} MiB (sum over processes; PSS "
        f"{run.memory.peak_pss_kib / 1024:.0f} MiB)."
    )
    return "\n".join(lines)


def check_targets(big: Pass, small: Pass | None) -> list[tuple[str, bool]]:
    """Every target of issues 2 and 4 this run could check, with pass/fail."""
    checks = []
    for m in big.results:
        if m.endpoint.target is not None:
            ratio = m.rps / big.hello
            checks.append(
                (
                    f"{m.endpoint.label} >= {m.endpoint.target:.0%} of /hello: {ratio:.1%}",
                    ratio >= m.endpoint.target,
                )
            )
    for e in big.too_slow:
        if e.target is not None:
            checks.append(
                (
                    f"{e.label} >= {e.target:.0%} of /hello: one request alone took "
                    f"{e.probe_ms:,.0f} ms",
                    False,
                )
            )
    if small is not None:
        big_index, small_index = big.get("/"), small.get("/")
        assert big_index and small_index
        ratio = big_index.rps / small_index.rps
        checks.append(
            (
                f"/ with {big.posts:,} posts >= 0.9x / with {small.posts} posts: {ratio:.2f}x "
                f"(ratios to /hello: {big_index.rps / big.hello:.1%} vs "
                f"{small_index.rps / small.hello:.1%})",
                ratio >= 0.9,
            )
        )
    for run in (big, small):
        for m in run.results if run else ():
            if m.bad_status:
                checks.append(
                    (f"{m.endpoint.label} ({run.posts} posts): {m.bad_text()} non-2xx", False)
                )
    return checks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=1000, help="passed on if demo-data has --tags")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs per endpoint (>= 2)")
    parser.add_argument("--workers", type=int, default=None, help="default: flaskr serve's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--server",
        default="flaskr",
        choices=("flaskr", "gunicorn-sync", "gunicorn-gthread", "granian"),
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help=f"skip the {SMALL_POSTS}-post pass for the 0.9x target",
    )
    parser.add_argument(
        "--ref",
        help="benchmark this git ref (e.g. HEAD) instead of the "
        "working tree, which may be mid-edit",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a flaskr setting for the server, e.g. PAGE_CACHE_SECONDS=0 (repeatable)",
    )
    parser.add_argument(
        "--close", action="store_true", help='send "Connection: close" (no keep-alive)'
    )
    parser.add_argument("--json", type=Path, help="also write raw results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the passes, print the report, return the exit status."""
    args = parse_args(argv)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="flaskr-bench-") as work, ExitStack() as stack:
        args.source, args.commit = (
            snapshot(args.ref, Path(work) / "src") if args.ref else (None, "")
        )
        small = None
        if not args.no_compare:
            small = start_pass(args, SMALL_POSTS, False, Path(work), stack)
        big = start_pass(args, args.posts, True, Path(work), stack)
        measure(args, [run for run in (small, big) if run])
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        args.json.write_text(
            json.dumps([r.summary() for r in (small, big) if r], indent=1, default=str)
        )
    print(f"## {time.strftime('%Y-%m-%d %H:%M')} - {machine()}\n")
    # Other people's work on the machine shows here; ratios to /hello suffer less from it.
    print(
        f"Load average (1/5/15 min) before: {' '.join(load_before)}, after: "
        f"{' '.join(load_after)}.\n"
    )
    source = f"git {args.ref} ({args.commit})" if args.ref else "working tree"
    print(
        f"Source: {source}. Command: `bench/run.sh {' '.join(sys.argv[1:])}`; "
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, "
        f"{args.repeat} runs per endpoint, "
        f"{'Connection: close' if args.close else 'keep-alive'}; settings: "
        f"{', '.join(args.set) or 'defaults'}.\n"
    )
    for run in (small, big):
        if run:
            print(f"### {run.posts:,} posts (`{run.seed_command}`)\n\n{table(run)}\n")
    checks = check_targets(big, small)
    print("### Targets\n")
    for text, ok in checks:
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
