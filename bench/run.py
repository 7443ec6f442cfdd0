"""Issue 9's benchmark: every page cached and cold, on SQLite and PostgreSQL, in one run.

Usage: bench/run.sh [--quick] [--million | --sizes N,N...] [--no-pg] [...]
Seeds the databases with `flaskr demo-data`, serves each with `flaskr serve` (the
page cache on, and off: "cold"), serves the Flask tutorial's own blog the same
way, and measures every page of every server with wrk, round-robin, in one run.
Prints Markdown tables of requests/s as ratios to the same server's /hello, and
the targets; exits 1 when a target is missed.
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

import tutorial
from endpoints import Endpoint, deep_page, discover, timed_get
from measure import MemorySampler, WrkResult, run_wrk, wait_idle
from servers import build_database, postgres_database, running_server, setting_env, snapshot
from targets import check_targets, find_pass

SMALL_POSTS = 100  # the "/ with 100 posts" the big index is compared with (issue 2)
TUTORIAL_POSTS = 100
#: How the page cache is turned off for the cold servers (flaskr/config.py).
COLD_SETTINGS = ["PAGE_CACHE_SECONDS=0"]
#: --quick: a smoke run of every part in a few minutes; its figures mean little.
QUICK = {"size": 2_000, "million": 20_000, "duration": 2, "warmup": 1, "repeat": 1}
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
    """One server - an app, its database and settings - with every endpoint measured."""

    name: str  # "SQLite, cached", "PostgreSQL, cold", "tutorial", ...
    database: str  # "SQLite" or "PostgreSQL"
    cached: bool
    posts: int
    seed_command: str
    server_command: str
    base: str = field(repr=False)
    pid: int = field(repr=False)
    memory: MemorySampler = field(repr=False)
    tutorial: bool = False
    results: list[Measured] = field(default_factory=list)
    too_slow: list[Endpoint] = field(default_factory=list)

    def get(self, label: str) -> Measured | None:
        return next((m for m in self.results if m.endpoint.label == label), None)

    @property
    def hello(self) -> float:
        """The baseline's requests/s; a server that answered nothing makes ratios meaningless."""
        rps = self.get("/hello").rps  # type: ignore[union-attr]
        if not rps:
            raise RuntimeError(f"{self.name}: /hello got no answers: the server was stuck or down")
        return rps

    def ratio(self, label: str) -> float | None:
        """A page's requests/s as a share of this server's /hello; None if not measured."""
        measured = self.get(label)
        return measured.rps / self.hello if measured else None

    def summary(self) -> dict[str, object]:
        """What --json writes about this pass."""
        worker_rss, worker_pss = self.memory.worker_peak_kib()
        return {
            "name": self.name,
            "database": self.database,
            "cached": self.cached,
            "posts": self.posts,
            "seed_command": self.seed_command,
            "server_command": self.server_command,
            "peak_rss_mib": self.memory.peak_rss_kib / 1024,
            "peak_pss_mib": self.memory.peak_pss_kib / 1024,
            "worker_peak_rss_mib": worker_rss / 1024,
            "worker_peak_pss_mib": worker_pss / 1024,
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


def log(message: str) -> None:
    """Progress, on stderr: stdout is the report."""
    print(f"# {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def serve(
    args: argparse.Namespace,
    stack: ExitStack,
    name: str,
    env: dict[str, str],
    folder: Path,
    app: str = "",
    cwd: Path | None = None,
) -> tuple[str, int, str, MemorySampler]:
    """Start one server for the rest of the run: its base URL, pid, command and sampler."""
    server = running_server(
        args.server, env, args.workers, args.threads, folder / f"{name}.log", app, cwd
    )
    base, proc = stack.enter_context(server)
    command = " ".join(p.split("/")[-1] if i == 0 else p for i, p in enumerate(proc.args))
    memory = stack.enter_context(MemorySampler(proc.pid))
    return base, proc.pid, command, memory


def seed(
    args: argparse.Namespace, folder: Path, posts: int, database_url: str | None = None
) -> tuple[dict[str, str], str]:
    """A fresh database of `posts` demo posts; its environment and seeding command."""
    started = time.monotonic()
    env, command = build_database(folder, posts, args.tags, args.source, args.set, database_url)
    where = "PostgreSQL" if database_url else "SQLite"
    args.seed_times.append((where, posts, command, time.monotonic() - started))
    log(f"seeded {posts:,} posts on {where} in {time.monotonic() - started:.0f}s: {command}")
    return env, command


def flaskr_passes(
    args: argparse.Namespace,
    stack: ExitStack,
    work: Path,
    database: str,
    posts: int,
    cached: tuple[bool, ...],
    database_url: str | None = None,
    full: bool = True,
) -> list[Pass]:
    """Seed one database and serve it once per cache setting (True: default settings)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{database.lower()}-{posts}-", dir=work))
    env, seed_command = seed(args, folder, posts, database_url)
    passes = []
    for with_cache in cached:
        name = f"{database}, {posts:,} posts, {'cached' if with_cache else 'cold'}"
        server_env = env if with_cache else {**env, **setting_env(COLD_SETTINGS)}
        base, pid, command, memory = serve(args, stack, name, server_env, folder)
        run = Pass(name, database, with_cache, posts, seed_command, command, base, pid, memory)
        endpoints = discover(base, posts, full)
        for endpoint in endpoints:
            endpoint.probe_ms = timed_get(base, endpoint.path)
        run.results = [Measured(e) for e in endpoints if e.probe_ms < TOO_SLOW_MS]
        run.too_slow = [e for e in endpoints if e.probe_ms >= TOO_SLOW_MS]
        log(f"{name}: {', '.join(e.path for e in endpoints)}")
        passes.append(run)
    return passes


def tutorial_pass(args: argparse.Namespace, stack: ExitStack, work: Path) -> Pass:
    """The Flask tutorial's blog from the Flask sdist, 100 posts, the same server settings."""
    folder = Path(tempfile.mkdtemp(prefix="tutorial-", dir=work))
    app_folder, factory = tutorial.prepare(folder, TUTORIAL_POSTS, args.tutorial_sdist)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASKR_", "FLASK_"))}
    # Its package is also called flaskr: its folder goes ahead of our editable install.
    env["PYTHONPATH"] = str(app_folder)
    base, pid, command, memory = serve(args, stack, "tutorial", env, folder, factory, app_folder)
    seeded = f"{TUTORIAL_POSTS} posts written by bench/tutorial.py"
    run = Pass("tutorial", "SQLite", False, TUTORIAL_POSTS, seeded, command, base, pid, memory)
    run.tutorial = True
    endpoints = [Endpoint("/hello", "/hello"), Endpoint("/", "/")]
    for endpoint in endpoints:
        endpoint.probe_ms = timed_get(base, endpoint.path)
    run.results = [Measured(e) for e in endpoints]
    log(f"tutorial app (Flask {tutorial.version('flask')} sdist) at {base}")
    return run


def warm_up(args: argparse.Namespace, runs: list[Pass]) -> None:
    """Load every page once: first requests fill caches, compile, start threads."""
    for run in runs:
        for measured in run.results:
            url = run.base + measured.endpoint.path
            run_wrk(url, args.warmup, args.connections, args.wrk_threads, args.close)
            wait_idle(run.pid)
        for measured in run.results:  # now that every worker has seen the page
            measured.endpoint.probe_ms = timed_get(run.base, measured.endpoint.path, times=10)


def page_labels(runs: list[Pass]) -> list[str]:
    """Every page label of these servers, each once, in the order they first come."""
    labels: list[str] = []
    for run in runs:
        labels += [m.endpoint.label for m in run.results if m.endpoint.label not in labels]
        labels += [e.label for e in run.too_slow if e.label not in labels]
    return labels


def schedule(runs: list[Pass], round_number: int) -> list[tuple[Pass, Measured]]:
    """The order one round measures every page of every server in.

    Page by page: one page's runs on every server follow each other, so the
    ratios between servers (PostgreSQL's cold shares against SQLite's, a million
    posts against 100,000) compare measurements seconds apart, not minutes.
    Every other round runs backwards, so each measurement's mean time in the run
    is the same: a load that rises or falls steadily through the run weighs on
    every page of every server alike, /hello included.
    """
    order = [
        (run, measured)
        for label in page_labels(runs)
        for run in runs
        for measured in run.results
        if measured.endpoint.label == label
    ]
    return order[::-1] if round_number % 2 else order


def measure(args: argparse.Namespace, runs: list[Pass]) -> None:
    """wrk every endpoint of every server, `repeat` rounds in the order of schedule().

    Interleaved, so a slow moment of the shared machine hits every endpoint and
    every server alike, and their ratios compare fairly.
    """
    for round_number in range(args.repeat):
        log(f"round {round_number + 1} of {args.repeat}")
        for run, measured in schedule(runs, round_number):
            url = run.base + measured.endpoint.path
            measured.runs.append(
                run_wrk(url, args.duration, args.connections, args.wrk_threads, args.close)
            )
            wait_idle(run.pid)


def _pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "-"


def overview(runs: list[Pass]) -> str:
    """Issue 9's table: each page as a share of its server's /hello, side by side.

    The last columns divide those shares: PostgreSQL's cold one by SQLite's, and a
    larger database's by the first size's. The tutorial app closes the table.
    """
    ours = [r for r in runs if not r.tutorial and r.posts != SMALL_POSTS]
    base_size = ours[0].posts if ours else 0
    sqlite_cold = find_pass(ours, "SQLite", False, base_size)
    pg_cold = find_pass(ours, "PostgreSQL", False, base_size)
    bigger = [r for r in ours if r.posts != base_size and not r.cached]
    columns = [r.name for r in ours]
    if sqlite_cold and pg_cold:
        columns.append("PG cold / SQLite cold")
    columns += [f"{r.posts:,} / {base_size:,} cold" for r in bigger]
    extra = len(columns) - len(ours)
    labels = page_labels(ours)
    lines = [
        "| page | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
        "| /hello, req/s | " + " | ".join(f"{r.hello:,.0f}" for r in ours) + " |" * (extra + 1),
    ]
    for label in labels[1:]:
        cells = [_pct(run.ratio(label)) for run in ours]
        if sqlite_cold and pg_cold:
            cells.append(_times(pg_cold.ratio(label), sqlite_cold.ratio(label)))
        cells += [
            _times(run.ratio(label), sqlite_cold and sqlite_cold.ratio(label)) for run in bigger
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    memory = [r.memory.worker_peak_kib() for r in ours]
    lines.append(
        "| worker peak RSS (PSS), MiB | "
        + " | ".join(f"{rss / 1024:.0f} ({pss / 1024:.0f})" for rss, pss in memory)
        + " |" * (extra + 1)
    )
    tutorial = next((r for r in runs if r.tutorial), None)
    if tutorial:
        page = tutorial.get("/")
        lines.append(
            f"\nThe Flask tutorial's app ({TUTORIAL_POSTS} posts, `{tutorial.server_command}`): "
            f"/hello {tutorial.hello:,.0f} req/s, / {page.rps if page else 0:,.0f} req/s "
            f"({_pct(tutorial.ratio('/'))} of its /hello). Our /hello against it: "
            + ", ".join(f"{r.name} {r.hello / tutorial.hello:.2f}x" for r in ours)
            + "."
        )
    return "\n".join(lines)


def _times(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.2f}x" if value and reference else "-"


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
    worker_rss, worker_pss = run.memory.worker_peak_kib()
    lines.append(
        f"\nServer `{run.server_command}`: {run.memory.processes} processes, peak RSS "
        f"{run.memory.peak_rss_kib / 1024:.0f} MiB (sum over processes; PSS "
        f"{run.memory.peak_pss_kib / 1024:.0f} MiB); per worker at most "
        f"{worker_rss / 1024:.0f} MiB RSS ({worker_pss / 1024:.0f} MiB PSS)."
    )
    return "\n".join(lines)


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are post counts, e.g. 100000,1000000")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="post counts, comma-separated (default 100000): every page is measured at "
        "the first, cached and cold; larger ones cold on SQLite, against the first",
    )
    parser.add_argument("--posts", type=int, help="the same as --sizes N")
    parser.add_argument(
        "--million", action="store_true", help="add 1,000,000 posts to the sizes (?page=50000)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['size']:,} posts ({QUICK['million']:,} for --million), "
        f"{QUICK['duration']} s per page, one round",
    )
    parser.add_argument("--tags", type=int, default=1000, help="passed on if demo-data has --tags")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per page (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, help="rounds over every page (default 2)")
    parser.add_argument("--workers", type=int, default=None, help="default: flaskr serve's")
    parser.add_argument("--threads", type=int, default=None, help="default: flaskr serve's")
    parser.add_argument(
        "--server",
        default="flaskr",
        choices=("flaskr", "gunicorn-sync", "gunicorn-gthread", "granian"),
        help="flaskr: `flaskr serve`, and the tutorial under granian with its settings",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "FLASKR_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL database to connect to; the run creates its own database "
        "beside it and drops it at the end",
    )
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-tutorial", action="store_true", help="skip the tutorial app")
    parser.add_argument(
        "--tutorial-sdist", type=Path, help="a Flask sdist to take the tutorial from (no download)"
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help=f"skip the {SMALL_POSTS}-post server for issue 2's 0.9x target",
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
        help="a flaskr setting for every flaskr server, e.g. SEARCH_CANDIDATES=200 (repeatable)",
    )
    parser.add_argument(
        "--close", action="store_true", help='send "Connection: close" (no keep-alive)'
    )
    parser.add_argument("--json", type=Path, help="also write raw results here")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else {"duration": 10, "warmup": 2, "repeat": 2}
    for name in ("duration", "warmup", "repeat"):
        if getattr(args, name) is None:
            setattr(args, name, mode[name])
    sizes = args.sizes or [args.posts or (QUICK["size"] if args.quick else 100_000)]
    million = QUICK["million"] if args.quick else 1_000_000
    if args.million and million not in sizes:
        sizes.append(million)
    args.sizes = sizes
    args.seed_times = []
    return args


def main(argv: list[str] | None = None) -> int:
    """Start every server, measure them all, print the report, return the exit status."""
    args = parse_args(argv)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flaskr-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        args.source, args.commit = snapshot(args.ref, work / "src") if args.ref else (None, "")
        # First what may fail for want of PostgreSQL or the network, before any seeding.
        pg_url = None if args.no_pg else stack.enter_context(postgres_database(args.pg_url))
        runs: list[Pass] = []
        if not args.no_tutorial:
            runs.append(tutorial_pass(args, stack, work))
        if not args.no_compare:
            runs += flaskr_passes(args, stack, work, "SQLite", SMALL_POSTS, (True,), full=False)
        base_size, *bigger = args.sizes
        runs += flaskr_passes(args, stack, work, "SQLite", base_size, (True, False))
        if pg_url:
            runs += flaskr_passes(args, stack, work, "PostgreSQL", base_size, (True, False), pg_url)
        for size in bigger:
            runs += flaskr_passes(args, stack, work, "SQLite", size, (False,))
        log("warming up")
        warm_up(args, runs)
        measure(args, runs)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        args.json.write_text(json.dumps([r.summary() for r in runs], indent=1, default=str))
    print(f"## {time.strftime('%Y-%m-%d %H:%M')} - {machine()}\n")
    # Other people's work on the machine shows here; ratios to /hello suffer less from it.
    print(
        f"Load average (1/5/15 min) before: {' '.join(load_before)}, after: "
        f"{' '.join(load_after)}; the run took {(time.monotonic() - started) / 60:.0f} min.\n"
    )
    source = f"git {args.ref} ({args.commit})" if args.ref else "working tree"
    print(
        f"Source: {source}. Command: `bench/run.sh {' '.join(sys.argv[1:])}`; "
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, "
        f"{args.repeat} round(s) over every page of every server, "
        f"{'Connection: close' if args.close else 'keep-alive'}; settings: "
        f"{', '.join(args.set) or 'defaults'}; cold = {', '.join(COLD_SETTINGS)}."
        + (" Smoke run (--quick): sizes and durations too small to judge by." if args.quick else "")
        + "\n"
    )
    print("Seeding: " + "; ".join(
        f"{where} {posts:,} posts in {seconds:.0f} s (`{command}`)"
        for where, posts, command, seconds in args.seed_times
    ) + ".\n")  # fmt: skip
    print(f"### Requests/s as a share of the same server's /hello\n\n{overview(runs)}\n")
    deep = ", ".join(f"`?page={deep_page(size)}` at {size:,}" for size in args.sizes)
    print(f"Deep page: {deep} posts (halfway down the index).\n")
    for run in runs:
        print(f"### {run.name} (`{run.seed_command}`)\n\n{table(run)}\n")
    checks = check_targets(runs, SMALL_POSTS)
    print("### Targets\n")
    for text, ok in checks:
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")
    missed = [text for text, ok in checks if not ok]
    print(f"\n{len(missed)} of {len(checks)} targets missed." if missed else "\nAll targets met.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
