"""bench/: the options, the targets and the tutorial app of bench/run.sh, without running wrk."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _import_bench() -> dict[str, ModuleType]:
    """bench/'s modules, imported without leaving them on sys.path or in sys.modules:
    bench/ is a folder of scripts whose names (servers, run) tests/ uses too."""
    names = [path.stem for path in BENCH.glob("*.py")]
    saved_path, saved = list(sys.path), {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, str(BENCH))
    try:
        return {n: importlib.import_module(n) for n in ("run", "targets", "tutorial", "endpoints")}
    finally:
        sys.path[:] = saved_path
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


_bench = _import_bench()
run, targets, tutorial = _bench["run"], _bench["targets"], _bench["tutorial"]
Endpoint, deep_page = _bench["endpoints"].Endpoint, _bench["endpoints"].deep_page
MemorySampler, WrkResult = run.MemorySampler, run.WrkResult


def _pass(name: str, database: str, cached: bool, posts: int, **rps: float) -> run.Pass:
    """A measured server: rps maps page labels (hello, index, search...) to requests/s."""
    labels = {"hello": "/hello", "index": "/", "deep": "deep page"}
    result = run.Pass(name, database, cached, posts, "seed", "serve", "", 0, MemorySampler(0))
    for key, value in rps.items():
        label = labels.get(key, key)
        target = {"/": 0.33, "deep page": 0.30, "search": 0.20}.get(label)
        measured = run.Measured(Endpoint(label, "/" + key, target))
        measured.runs.append(WrkResult(value, 1.0, 2.0, int(value), {200: int(value)}, 0, 0.1, ""))
        result.results.append(measured)
    return result


def _failed(checks: list[tuple[str, bool]]) -> list[str]:
    return [text for text, ok in checks if not ok]


@pytest.mark.parametrize(
    ("argv", "sizes", "duration", "repeat"),
    [
        ([], [100_000], 10, 2),
        (["--million"], [100_000, 1_000_000], 10, 2),
        (["--quick"], [2_000], 2, 1),
        (["--quick", "--million"], [2_000, 20_000], 2, 1),
        (["--sizes", "100000,1_000_000", "--repeat", "3"], [100_000, 1_000_000], 10, 3),
        (["--posts", "5000", "--duration", "5"], [5_000], 5, 2),
    ],
)
def test_bench_options_choose_sizes_and_durations(argv, sizes, duration, repeat):
    args = run.parse_args(argv)
    assert (args.sizes, args.duration, args.repeat) == (sizes, duration, repeat)


def _order(order: list[tuple[run.Pass, run.Measured]]) -> list[tuple[str, str]]:
    return [(server.name, measured.endpoint.label) for server, measured in order]


def test_a_round_measures_one_page_on_every_server_before_the_next_page():
    small = _pass("small", "SQLite", True, 100, hello=1, index=1)
    cold = _pass("cold", "SQLite", False, 100_000, hello=1, index=1, deep=1, search=1)
    pg = _pass("pg", "PostgreSQL", False, 100_000, hello=1, index=1, search=1)
    assert _order(run.schedule([small, cold, pg], 0)) == [
        ("small", "/hello"),
        ("cold", "/hello"),
        ("pg", "/hello"),
        ("small", "/"),
        ("cold", "/"),
        ("pg", "/"),
        ("cold", "deep page"),
        ("cold", "search"),
        ("pg", "search"),
    ]


def test_every_other_round_runs_backwards_and_each_round_measures_everything_once():
    cold = _pass("cold", "SQLite", False, 100_000, hello=1, index=1, deep=1)
    big = _pass("big", "SQLite", False, 1_000_000, hello=1, index=1, deep=1)
    first, second, third = (_order(run.schedule([cold, big], n)) for n in range(3))
    assert second == first[::-1]
    assert third == first
    everything = [(s.name, m.endpoint.label) for s in (cold, big) for m in s.results]
    assert sorted(first) == sorted(everything)
    assert len(first) == len(set(first))


def test_deep_page_is_halfway_down_the_index():
    assert (deep_page(100_000), deep_page(1_000_000), deep_page(10)) == (5000, 50000, 2)


def test_a_run_meeting_every_target_passes():
    runs = [
        _pass("tutorial", "SQLite", False, 100, hello=1000, index=100),
        _pass("SQLite cached", "SQLite", True, 1000, hello=900, index=800, search=850),
        _pass("SQLite cold", "SQLite", False, 1000, hello=1000, index=400, search=250),
        _pass("PG cached", "PostgreSQL", True, 1000, hello=1000, index=900, search=810),
        _pass("PG cold", "PostgreSQL", False, 1000, hello=1000, index=330, search=200),
        _pass("SQLite 10x", "SQLite", False, 10_000, hello=1000, index=380, search=230),
    ]
    runs[0].tutorial = True
    checks = targets.check_targets(runs, small_posts=100)
    assert _failed(checks) == []
    assert len(checks) == 2 + 2 + 2 + 2 + 1 + 2  # cold, cached x2, PG/SQLite, /hello, sizes


def test_each_missed_target_is_named():
    runs = [
        _pass("tutorial", "SQLite", False, 100, hello=2000, index=100),
        _pass("SQLite cached", "SQLite", True, 1000, hello=1000, index=790, search=900),
        _pass("SQLite cold", "SQLite", False, 1000, hello=1000, index=320, search=250),
        _pass("PG cold", "PostgreSQL", False, 1000, hello=1000, index=300, search=150),
        _pass("SQLite 10x", "SQLite", False, 10_000, hello=1000, index=310, search=200),
    ]
    runs[0].tutorial = True
    runs[2].results[0].runs[0].statuses[500] = 3
    failed = _failed(targets.check_targets(runs, small_posts=100))
    assert failed == [
        "SQLite cold: / >= 33% of /hello: 32.0%",
        "SQLite cached: / >= 80% of /hello: 79.0%",
        "PG cold: search >= 0.8x SQLite cold: 0.60x (15.0% vs 25.0% of /hello)",
        "our /hello (SQLite cached) >= 0.8x the tutorial's /hello: 0.50x (1,000 vs 2,000 req/s)",
        "SQLite 10x: search >= 0.9x SQLite cold: 0.80x (20.0% vs 25.0% of /hello)",
        "SQLite cold: /hello: 3 (3 x 500) non-2xx",
    ]


def test_a_page_too_slow_to_load_test_misses_its_target():
    cold = _pass("SQLite cold", "SQLite", False, 1000, hello=1000, index=400)
    cold.too_slow.append(Endpoint("search", "/search?q=river", 0.20, probe_ms=900))
    assert _failed(targets.cold_checks(cold)) == [
        "SQLite cold: search >= 20% of /hello: one request alone took 900 ms"
    ]


def test_overview_shows_shares_of_hello_side_by_side():
    runs = [
        _pass("SQLite cold", "SQLite", False, 1000, hello=1000, index=400),
        _pass("PG cold", "PostgreSQL", False, 1000, hello=2000, index=400),
        _pass("SQLite 10x", "SQLite", False, 10_000, hello=1000, index=360),
    ]
    lines = run.overview(runs).splitlines()
    assert lines[0] == (
        "| page | SQLite cold | PG cold | SQLite 10x | PG cold / SQLite cold | "
        "10,000 / 1,000 cold |"
    )
    assert lines[2] == "| /hello, req/s | 1,000 | 2,000 | 1,000 | | |"
    assert lines[3] == "| / | 40.0% | 20.0% | 36.0% | 0.50x | 0.90x |"


EXAMPLE_APP = """\
from flask import Flask


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.add_url_rule("/", "index", lambda: "index")
    HELLO
    return app
"""
EXAMPLE_SCHEMA = """\
CREATE TABLE user (id INTEGER PRIMARY KEY, username TEXT, password TEXT);
CREATE TABLE post (id INTEGER PRIMARY KEY, author_id INTEGER, created TIMESTAMP,
                   title TEXT, body TEXT);
"""


def _fake_sdist(folder: Path, with_hello: bool) -> Path:
    """A Flask sdist whose examples/tutorial is a minimal app of the tutorial's shape."""
    hello = 'app.add_url_rule("/hello", "hello", lambda: "Hi from the example")'
    files = {
        "examples/tutorial/flaskr/__init__.py": EXAMPLE_APP.replace(
            "HELLO", hello if with_hello else ""
        ),
        "examples/tutorial/flaskr/schema.sql": EXAMPLE_SCHEMA,
        "src/flask/app.py": "",
    }
    sdist = folder / "flask-9.9.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"flask-9.9/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return sdist


@pytest.mark.parametrize(("with_hello", "hello"), [(False, "Hello, World!"), (True, "Hi from")])
def test_tutorial_app_gets_the_tutorials_hello_only_where_it_lacks_one(tmp_path, with_hello, hello):
    app_folder, factory = tutorial.prepare(tmp_path, 7, _fake_sdist(tmp_path, with_hello))
    assert sorted(p.name for p in app_folder.iterdir()) == [
        "bench_tutorial.py",
        "flaskr",
        "instance",
    ]
    script = (
        f"import {factory.split(':')[0]} as m, sqlite3; c = m.{factory.split(':')[1]}()"
        ".test_client(); print(c.get('/hello').get_data(as_text=True));"
        "print(sqlite3.connect('instance/flaskr.sqlite').execute('SELECT count(*) FROM post')"
        ".fetchone()[0])"
    )
    env = {**os.environ, "PYTHONPATH": str(app_folder)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=app_folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(hello)
    assert done.stdout.split()[-1] == "7"
