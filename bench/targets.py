"""Issue 9's targets (and issue 2's size check), read off one run's measurements."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from run import Pass

#: A cache hit of any anonymous page, as a share of /hello.
CACHED_TARGET = 0.80
#: Our /hello against the tutorial's /hello, under the same server settings.
HELLO_TARGET = 0.80
#: Each cold ratio on PostgreSQL against the same ratio on SQLite.
POSTGRES_TARGET = 0.8
#: A cold page at a larger size against the same page at the first size.
SIZE_TARGET = 0.9
SIZE_PAGES = ("/", "deep page", "detail", "tag", "search")


def find_pass(runs: list[Pass], database: str, cached: bool, posts: int) -> Pass | None:
    """The server of that database, cache setting and size, if the run had one."""
    return next(
        (r for r in runs if (r.database, r.cached, r.posts) == (database, cached, posts)), None
    )


def _labels(run: Pass) -> list[str]:
    """Every page of the server but /hello, measured or too slow to measure."""
    labels = [m.endpoint.label for m in run.results] + [e.label for e in run.too_slow]
    return [label for label in labels if label != "/hello"]


def _slow(run: Pass, label: str) -> str:
    endpoint = next(e for e in run.too_slow if e.label == label)
    return f"one request alone took {endpoint.probe_ms:,.0f} ms"


def _share(run: Pass, label: str, least: float, reference: float | None = None) -> bool | None:
    """Whether a page reached `least` of /hello (or of reference x /hello); None if absent."""
    ratio = run.ratio(label)
    if ratio is None:
        return False if any(e.label == label for e in run.too_slow) else None
    return ratio >= least * (reference if reference is not None else 1.0)


def cold_checks(cold: Pass) -> list[tuple[str, bool]]:
    """Uncached SQLite pages against their share of /hello."""
    checks = []
    for endpoint in [m.endpoint for m in cold.results] + cold.too_slow:
        if endpoint.target is None:
            continue
        ratio = cold.ratio(endpoint.label)
        shown = f"{ratio:.1%}" if ratio is not None else _slow(cold, endpoint.label)
        checks.append(
            (
                f"{cold.name}: {endpoint.label} >= {endpoint.target:.0%} of /hello: {shown}",
                bool(_share(cold, endpoint.label, endpoint.target)),
            )
        )
    return checks


def cached_checks(cached: Pass) -> list[tuple[str, bool]]:
    """Every page served from the page cache: close to /hello."""
    checks = []
    for label in _labels(cached):
        ratio = cached.ratio(label)
        shown = f"{ratio:.1%}" if ratio is not None else _slow(cached, label)
        checks.append(
            (
                f"{cached.name}: {label} >= {CACHED_TARGET:.0%} of /hello: {shown}",
                bool(_share(cached, label, CACHED_TARGET)),
            )
        )
    return checks


def relative_checks(
    run: Pass, reference: Pass, least: float, labels: tuple[str, ...] | None = None
) -> list[tuple[str, bool]]:
    """Each page's share of /hello on run against the same share on reference."""
    checks = []
    for label in labels or tuple(_labels(reference)):
        mine, theirs = run.ratio(label), reference.ratio(label)
        if theirs is None:
            continue  # the reference could not measure it: its own check fails
        if mine is None:
            shown = _slow(run, label) if any(e.label == label for e in run.too_slow) else "absent"
            checks.append((f"{run.name}: {label} >= {least}x {reference.name}: {shown}", False))
            continue
        checks.append(
            (
                f"{run.name}: {label} >= {least}x {reference.name}: {mine / theirs:.2f}x "
                f"({mine:.1%} vs {theirs:.1%} of /hello)",
                mine >= least * theirs,
            )
        )
    return checks


def check_targets(runs: list[Pass], small_posts: int) -> list[tuple[str, bool]]:
    """Every target this run could check, with pass/fail."""
    ours = [r for r in runs if not r.tutorial and r.posts != small_posts]
    if not ours:
        return [("no flaskr server was measured", False)]
    size = ours[0].posts
    sqlite_cold = find_pass(ours, "SQLite", False, size)
    sqlite_cached = find_pass(ours, "SQLite", True, size)
    pg_cold = find_pass(ours, "PostgreSQL", False, size)
    pg_cached = find_pass(ours, "PostgreSQL", True, size)
    checks = []
    if sqlite_cold:
        checks += cold_checks(sqlite_cold)
    for cached in (sqlite_cached, pg_cached):
        if cached:
            checks += cached_checks(cached)
    if pg_cold and sqlite_cold:
        checks += relative_checks(pg_cold, sqlite_cold, POSTGRES_TARGET)
    tutorial = next((r for r in runs if r.tutorial), None)
    if tutorial and sqlite_cached:
        ours_hello, theirs = sqlite_cached.hello, tutorial.hello
        checks.append(
            (
                f"our /hello ({sqlite_cached.name}) >= {HELLO_TARGET}x the tutorial's /hello: "
                f"{ours_hello / theirs:.2f}x ({ours_hello:,.0f} vs {theirs:,.0f} req/s)",
                ours_hello >= HELLO_TARGET * theirs,
            )
        )
    if sqlite_cold:
        for bigger in (r for r in ours if r.posts > size and not r.cached):
            checks += relative_checks(bigger, sqlite_cold, SIZE_TARGET, SIZE_PAGES)
    small = find_pass(runs, "SQLite", True, small_posts)
    if small and sqlite_cached:
        checks += relative_checks(sqlite_cached, small, SIZE_TARGET, ("/",))
    for run in runs:
        for m in run.results:
            if m.bad_status:
                checks.append((f"{run.name}: {m.endpoint.label}: {m.bad_text()} non-2xx", False))
    return checks
