"""Find the pages to measure on a running server: follow its links, probe for a 200."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

from measure import fetch

#: demo-data's most common word: in 99.5% of its posts ("river", measured before
#: issue 9, is in 54%). Issue 9's search target is for a word in almost every post.
SEARCH_WORD = "flask"
ATOM_GUESSES = ("/feed.atom", "/atom.xml", "/feeds/atom", "/feed/atom", "/atom")
POSTS_PER_PAGE = 10  # flaskr's default POSTS_PER_PAGE


@dataclass
class Endpoint:
    """A page to load; target: the share of /hello's requests/s it must reach uncached."""

    label: str  # the same page on every server: "/", "deep page", "detail", ...
    path: str
    target: float | None = None
    probe_ms: float = 0.0  # one lone request, before any load: flags pages too slow to load


def deep_page(posts: int) -> int:
    """The page halfway down the index: ?page=5000 of 100,000 posts, 50000 of a million."""
    return max(2, posts // (2 * POSTS_PER_PAGE))


def timed_get(base: str, path: str, times: int = 3) -> float:
    """The fastest of a few lone GETs of a page, in milliseconds."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fetch(base + path, timeout=60)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _path(url: str) -> str:
    """The path and query of a URL or of a path."""
    parts = urlsplit(unescape(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _ok(base: str, path: str) -> bool:
    try:
        return fetch(base + path, timeout=60)[0] == 200
    except OSError:
        return False


def _detail(base: str, posts: int) -> tuple[str, str] | None:
    """A visible post's canonical path (following the 301 from /<id>/) and its HTML."""
    for post_id in range(max(1, posts // 2), max(1, posts // 2) + 50):
        status, headers, body = fetch(f"{base}/{post_id}/", timeout=60)
        if status in (301, 308) and "location" in headers:
            path = _path(headers["location"])
            status, _, body = fetch(base + path, timeout=60)
            if status == 200:
                return path, body
        elif status == 200:
            return f"/{post_id}/", body
    return None


def _first_link(html: str, pattern: str) -> str | None:
    match = re.search(rf'href="([^"]*{pattern}[^"]*)"', html)
    return _path(match.group(1)) if match else None


def _atom(base: str, index_html: str) -> str | None:
    """The site's Atom feed: from the index's autodiscovery link, else a usual address."""
    for tag in re.findall(r"<link\b[^>]*>", index_html):
        if "application/atom+xml" in tag and (href := re.search(r'href="([^"]+)"', tag)):
            return _path(href.group(1))
    return next((path for path in ATOM_GUESSES if _ok(base, path)), None)


def discover(base: str, posts: int, full: bool = True) -> list[Endpoint]:
    """The endpoints this server has, baseline first; with full=False only /hello and /.

    Targets are issue 9's for pages served without the page cache.
    """
    found = [Endpoint("/hello", "/hello"), Endpoint("/", "/", 0.33)]
    if not full:
        return found
    deep = f"/?page={deep_page(posts)}"
    if _ok(base, deep):
        found.append(Endpoint("deep page", deep, 0.30))
    detail = _detail(base, posts)
    html = ""
    if detail:
        path, html = detail
        found.append(Endpoint("detail", path, 0.30))
    # A tag of the measured post; else the first one the tag list shows.
    tag = _first_link(html, "/tag/") or _first_link(fetch(base + "/tags", 60)[2], "/tag/")
    if tag and _ok(base, tag):
        found.append(Endpoint("tag", tag, 0.30))
    profile = _first_link(html, "/u/")
    if profile and _ok(base, profile):
        found.append(Endpoint("profile", profile))
    atom = _atom(base, fetch(base + "/", 60)[2])
    if atom and _ok(base, atom):
        found.append(Endpoint("atom feed", atom, 0.30))
    search = f"/search?q={SEARCH_WORD}"
    if _ok(base, search):
        found.append(Endpoint("search", search, 0.20))
    return found
