"""Mutation testing of the modules that keep readers safe: each must score at least 90%.

Run from the project root: `.venv/bin/python tools/mutation.py [MODULE ...]` (paths like
flaskr/security.py or dotted names; default: every module in [tool.mutmut] only_mutate).
It runs mutmut 3 on those modules (every mutant, each against the tests that reach its
function), prints killed / tried and the score per module, lists the survivors that are
not documented equivalents (TESTING.md) with their diffs, and exits 1 if a module is
below the floor. Results are kept in mutants/ and reused for unchanged functions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = str(Path(sys.executable).with_name("mutmut"))
FLOOR = 0.90
#: mutmut's verdicts that mean a test noticed the mutant.
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
#: Verdicts that mean no test noticed it ("no tests": no test reaches the function).
SURVIVED = {"survived", "no tests", "suspicious"}
#: A documented equivalent in TESTING.md: | `flaskr.x.y__mutmut_3` | why |
EQUIVALENT_ROW = re.compile(r"^\|\s*`(flaskr\.[^`]+__mutmut_\d+)`\s*\|")


def configured_modules() -> list[str]:
    """The dotted names of the modules pyproject.toml's [tool.mutmut] mutates."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf8"))["tool"]["mutmut"]
    return [dotted(path) for path in config["only_mutate"]]


def dotted(module: str) -> str:
    """flaskr/blog/queries.py or flaskr.blog.queries -> flaskr.blog.queries."""
    return module.removesuffix(".py").replace("/", ".")


def equivalents() -> set[str]:
    """The mutant names TESTING.md accepts as equivalent (they cannot change behaviour)."""
    text = (ROOT / "TESTING.md").read_text("utf8")
    return {m.group(1) for line in text.splitlines() if (m := EQUIVALENT_ROW.match(line))}


def module_of(name: str, modules: list[str]) -> str | None:
    """The module a mutant belongs to (the longest matching prefix)."""
    owners = [m for m in modules if name.startswith(m + ".")]
    return max(owners, key=len) if owners else None


def verdicts(modules: list[str]) -> dict[str, dict[str, str]]:
    """{module: {mutant name: verdict}} from mutmut's stored results."""
    out = subprocess.run(
        [MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for line in out.splitlines():
        name, _, verdict = line.strip().rpartition(": ")
        owner = module_of(name, modules)
        if owner:
            result[owner][name] = verdict
    return result


def refresh_data_files() -> None:
    """Bring mutants/ up to date with flaskr's templates and other non-Python files.

    mutmut copies a source file into mutants/ only when no copy is there yet: it
    remakes the Python modules it mutates, but a template changed since the last
    run would stay old, and the tests would run against it.
    """
    for source in (ROOT / "flaskr").rglob("*"):
        if not source.is_file() or source.suffix in (".py", ".pyc"):
            continue
        copy = ROOT / "mutants" / source.relative_to(ROOT)
        if copy.exists() and copy.read_bytes() != source.read_bytes():
            shutil.copy2(source, copy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to test (default: all configured)")
    parser.add_argument("--max-children", type=int, help="mutants at once (default: one per CPU)")
    parser.add_argument("--no-run", action="store_true", help="only report the stored results")
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    args = parser.parse_args()
    modules = [dotted(m) for m in args.modules] or configured_modules()
    if not args.no_run:
        refresh_data_files()
        command = [MUTMUT, "run", *(f"{m}.*" for m in modules)]
        if args.max_children:
            command += ["--max-children", str(args.max_children)]
        log = ROOT / "mutants" / "run.log"
        log.parent.mkdir(exist_ok=True)
        started = time.monotonic()
        with log.open("w") as out:
            subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
        print(f"mutmut ran {time.monotonic() - started:.0f} s (log: {log.relative_to(ROOT)})")
    accepted = equivalents()
    failing = False
    print(f"| module | killed / tried | equivalent | score (floor {FLOOR:.0%}) |")
    print("| --- | ---: | ---: | ---: |")
    survivors: list[str] = []
    unrun: list[str] = []
    for module, results in sorted(verdicts(modules).items()):
        # A run that stopped early (killed, crashed) leaves mutants unchecked: the score
        # of the rest is no score of the module.
        unrun += sorted(n for n, v in results.items() if v == "not checked")
        results = {n: v for n, v in results.items() if v != "not checked"}
        counts = Counter(results.values())
        killed = sum(counts[v] for v in KILLED)
        equivalent = [n for n, v in results.items() if v in SURVIVED and n in accepted]
        tried = len(results) - len(equivalent)
        score = killed / tried if tried else 1.0
        failing |= score < FLOOR
        mark = "" if score >= FLOOR else " BELOW"
        print(f"| `{module}` | {killed} / {tried} | {len(equivalent)} | {score:.1%}{mark} |")
        survivors += sorted(n for n, v in results.items() if v in SURVIVED and n not in accepted)
    if survivors:
        print(f"\n{len(survivors)} survivor(s) not documented as equivalent:")
        for name in survivors:
            print(f"  {name}")
            if args.show:
                shown = subprocess.run([MUTMUT, "show", name], cwd=ROOT, capture_output=True)
                print(shown.stdout.decode(errors="replace"))
    if unrun:
        print(
            f"\n{len(unrun)} mutant(s) not run (a run stopped early, or code changed): run again."
        )
        failing = True
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
