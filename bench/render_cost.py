"""CPU seconds flaskr's Markdown renderer spends on hostile shapes of text, each at the body limit.

Run: `.venv/bin/python bench/render_cost.py [--repeat N]`. The shapes are the test
suite's (tests/test_render_cost.py); each is rendered (or refused past the parser-step
budget) N times and the best CPU time is printed, beside an ordinary 100,000-character post.
Timing belongs here, not in the tests: under coverage or on a loaded machine the same
render takes several times longer.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import time
from pathlib import Path

from flaskr import markup

ROOT = Path(__file__).resolve().parent.parent


def _cases() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("cases", ROOT / "tests" / "test_render_cost.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"ordinary post": module.ORDINARY_POST, **module.PATHOLOGICAL}


def _best_cpu_seconds(source: str, repeat: int) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        started = time.process_time()
        try:
            markup.render(source[:100_000])
            outcome = "rendered"
        except markup.TooComplexError:
            outcome = "refused"
        best = min(best, time.process_time() - started)
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="renders per shape (best counts)")
    args = parser.parse_args()
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, best of {args.repeat}"
    )
    print("| shape | outcome | CPU s |")
    print("| --- | --- | ---: |")
    for name, source in _cases().items():
        seconds, outcome = _best_cpu_seconds(source, args.repeat)
        print(f"| {name} | {outcome} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
