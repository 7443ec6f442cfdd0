"""A small in-process cache of the pages anonymous readers see, always current.

A cached page is served only while nothing it could show has changed: every
write to posts, tags or users bumps `content_version` (database triggers, so
plain-SQL writes count too), and an entry never outlives the moment the next
scheduled post becomes visible. Signed-in users and pages carrying a flash
message or setting a cookie are never cached.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session

from flaskr.db import utcnow

#: Bytes of pages kept per worker process; least recently used go first.
MAX_BYTES = 32 * 1024 * 1024
#: Pages larger than this are not kept.
MAX_BODY = 512 * 1024


@dataclass
class Freshness:
    """How the cache learns that readers' pages changed; the blog's queries answer both."""

    #: The counter every write to what readers see bumps (None: cannot tell, don't cache).
    content_version: Callable[[], int | None]
    #: When the next scheduled post becomes visible (naive UTC), or None.
    next_publication: Callable[[datetime], datetime | None]


@dataclass
class _Entry:
    version: int
    expires: float
    headers: list[tuple[str, str]]
    body: bytes


class _Store:
    """A thread-safe LRU of rendered 200 pages, plus when the next scheduled post appears."""

    def __init__(self) -> None:
        self.entries: OrderedDict[Any, _Entry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        #: {content version: epoch seconds when its next scheduled post appears}, the latest only.
        self.scheduled: dict[int, float] = {}

    def get(self, key: Any, version: int) -> _Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry.version != version or entry.expires <= time.time():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: Any, entry: _Entry) -> None:
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = entry
            self.size += len(entry.body)
            while self.size > MAX_BYTES:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: Any) -> None:
        self.size -= len(self.entries.pop(key).body)


def _store() -> _Store:
    return current_app.extensions["flaskr.pagecache"]


def init_app(app: Flask, freshness: Freshness) -> None:
    """Give the app its page store (one per worker process) and the way to tell it is current."""
    app.extensions["flaskr.pagecache"] = _Store()
    app.extensions["flaskr.pagecache.freshness"] = freshness


def _freshness() -> Freshness:
    return current_app.extensions["flaskr.pagecache.freshness"]


def _cacheable() -> bool:
    return (
        current_app.config["PAGE_CACHE_SECONDS"] > 0
        and request.method in ("GET", "HEAD")
        and g.get("user") is None
        and "_flashes" not in session
        and not request.if_none_match
        and request.if_modified_since is None
    )


def _next_scheduled(version: int) -> float:
    """Epoch seconds when the next scheduled post becomes visible (inf if none)."""
    store = _store()
    remembered = store.scheduled.get(version)
    if remembered is not None and remembered > time.time():
        return remembered
    found = _freshness().next_publication(utcnow())
    # Stored naive in UTC: measure the wait against utcnow(), not the local clock.
    when = math.inf if found is None else time.time() + (found - utcnow()).total_seconds()
    store.scheduled = {version: when}
    return when


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve this view's anonymous responses from the page cache while they are current."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        return _serve(view, kwargs)

    return wrapper


def _serve(view: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """The view's response: from the cache when a current copy is kept, else made (and kept)."""
    if not _cacheable():
        return view(**kwargs)
    version = _freshness().content_version()
    if version is None:  # the counter row is gone (a hand-emptied database): no caching
        return view(**kwargs)
    # Pages hold absolute links (canonical, feeds): the scheme and host are part of the key.
    key = (request.scheme, request.host, request.full_path)
    entry = _store().get(key, version)
    if entry is not None:
        return Response(entry.body, headers=entry.headers)
    response = make_response(view(**kwargs))
    if _keepable(response):
        ttl = current_app.config["PAGE_CACHE_SECONDS"]
        expires = min(time.time() + ttl, _next_scheduled(version))
        headers = list(response.headers.items())
        _store().put(key, _Entry(version, expires, headers, response.get_data()))
    return response


def _keepable(response: Response) -> bool:
    """True when a response may be served to other readers: a whole 200 page, nobody's own."""
    return (
        response.status_code == 200
        and not session.modified  # a CSRF token or a shown flash: this visitor's own
        and "Set-Cookie" not in response.headers
        and not response.is_streamed
        and len(response.get_data()) <= MAX_BODY
    )
