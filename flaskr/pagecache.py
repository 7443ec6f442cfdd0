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

from flaskr.appearance import themes
from flaskr.db import keep_connection, utcnow
from flaskr.i18n import negotiate
from flaskr.ratelimit.limiter import APP_WIDE_LIMITS

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
    #: Told each version a page is about to be made for, first (the site settings
    #: reload there: a kept page is never made with another version's settings).
    on_version: Callable[[int], None] | None = None


@dataclass
class _Entry:
    version: int
    expires: float
    headers: list[tuple[str, str]]
    body: bytes
    #: The status and headers as sent, every hook applied (set by Hits when it saw them).
    wire: tuple[str, list[tuple[str, str]]] | None = None


class _Store:
    """A thread-safe LRU of rendered 200 pages, plus when the next scheduled post appears."""

    def __init__(self) -> None:
        self.entries: OrderedDict[Any, _Entry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        #: {content version: epoch seconds when its next scheduled post appears}, the latest only.
        self.scheduled: dict[int, float] = {}
        #: Hits' index: {(scheme, host, script root, path, query) as sent: key in entries}.
        self.wire: dict[tuple[str, ...], Any] = {}

    def get(self, key: Any, version: int | None) -> _Entry | None:
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
    """Give the app its page store (one per worker process) and the way to tell it is current.

    Call it before any middleware that fixes the scheme or host (ProxyFix) is
    added: Hits must see the request as Flask will.
    """
    store = app.extensions["flaskr.pagecache"] = _Store()
    app.extensions["flaskr.pagecache.freshness"] = freshness
    app.wsgi_app = Hits(app, app.wsgi_app, store, freshness)  # type: ignore[method-assign]


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
    freshness = _freshness()
    version = freshness.content_version()
    if version is None:  # the counter row is gone (a hand-emptied database): no caching
        return view(**kwargs)
    if freshness.on_version is not None:
        freshness.on_version(version)
    # Pages hold absolute links (canonical, feeds) and links under the script root
    # (a prefix a proxy may set per request): scheme, host and root are part of the
    # key; so are the reader's theme, which the page names, and the language
    # their browser asks for, which the page is written in (the last two parts:
    # Hits compares them).
    key = (
        request.scheme,
        request.host,
        request.script_root,
        request.full_path,
        themes.theme_of(request.cookies) or "",
        negotiate(request.headers.get("Accept-Language", ""), current_app.config["LANGUAGE"]),
    )
    entry = _store().get(key, version)
    if entry is not None:
        request.environ[_STORED] = key  # Hits may learn how this page is sent
        return Response(entry.body, headers=entry.headers)
    response = make_response(view(**kwargs))
    if _keepable(response):
        ttl = current_app.config["PAGE_CACHE_SECONDS"]
        expires = min(time.time() + ttl, _next_scheduled(version))
        headers = list(response.headers.items())
        _store().put(key, _Entry(version, expires, headers, response.get_data()))
        request.environ[_STORED] = key
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


#: Set in the WSGI environ by _serve when it kept the page under this key.
_STORED = "flaskr.pagecache.stored"
#: The parts of a request's address, as the server sent them, that Hits keys its index by.
_ADDRESS = ("wsgi.url_scheme", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")
#: Hits' index holds at most this many addresses (then starts over).
MAX_WIRE_KEYS = 65536


class Hits:
    """WSGI middleware: a kept page goes to a reader with no session cookie before Flask runs.

    A cache hit through Flask costs a whole dispatch: the session, every hook,
    the view's wrappers. None of it can change a kept page for a reader without
    a session cookie (no user, no flash, no CSRF token), so such a GET is
    answered here with the status, headers and body exactly as Flask sent them
    when the page was kept, after the same freshness check (security.ResponseHeaders,
    outside this, adds the security headers to a hit as to every response).
    Everything else (signed-in readers, forms, conditional requests, HEAD, pages
    not yet kept) goes through Flask as before.
    """

    def __init__(self, app: Flask, wsgi_app: Any, store: _Store, freshness: Freshness) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.store = store
        self.freshness = freshness

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        key = self._wire_key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        entry = self._current(key)
        if entry is not None and entry.wire is not None:
            status, headers = entry.wire
            start_response(status, headers)
            return [entry.body]
        return self._pass_and_learn(key, environ, start_response)

    def _wire_key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        """The request's address as sent, when Hits may answer it; else None."""
        config = self.app.config
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or config["PAGE_CACHE_SECONDS"] <= 0
            # Any cookie of that name (even one that would not verify) goes to Flask.
            or config["SESSION_COOKIE_NAME"] + "=" in environ.get("HTTP_COOKIE", "")
            or "HTTP_IF_NONE_MATCH" in environ
            or "HTTP_IF_MODIFIED_SINCE" in environ
            # A limit on every request must count this one too.
            or any(config.get(name) for name in APP_WIDE_LIMITS)
        ):
            return None
        # PEP 3333 lets a server leave out a part that is empty: absent and empty
        # are the same address. The theme and language are read as _serve reads them.
        address = tuple(environ.get(part, "") for part in _ADDRESS)
        return (
            *address,
            themes.theme_of_header(environ.get("HTTP_COOKIE", "")) or "",
            negotiate(environ.get("HTTP_ACCEPT_LANGUAGE", ""), config["LANGUAGE"]),
        )

    def _current(self, key: tuple[str, ...]) -> _Entry | None:
        """The kept page for this address if it is still current, checked as _serve checks."""
        stored = self.store.wire.get(key)
        if stored is None:
            return None
        try:
            with self.app.app_context():
                version = self.freshness.content_version()
                # A reader's request like any other: its connection is kept for
                # the next one rather than checked back into the pool.
                keep_connection()
        except Exception:  # noqa: BLE001 - an outage: Flask answers it (503) the usual way
            return None
        # No version (the counter row is gone) matches no entry: _serve keeps none then.
        return self.store.get(stored, version)

    def _pass_and_learn(
        self, key: tuple[str, ...], environ: dict[str, Any], start_response: Any
    ) -> Any:
        """Let Flask answer; if it kept the page, remember the status and headers it sent."""
        sent: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            sent[:] = [status, list(headers)]
            return start_response(status, headers, *exc_info)

        body = self.wsgi_app(environ, capture)
        stored = environ.get(_STORED)
        # _serve marks only 200 pages it kept or served from the store; Flask has
        # called start_response by the time it returns. The page must be for the
        # theme and language this address was read with: never another reader's.
        if stored is not None and stored[-2:] == key[-2:]:
            with self.store.lock:
                entry = self.store.entries.get(stored)
                if entry is not None:
                    entry.wire = (sent[0], sent[1])
                    if len(self.store.wire) >= MAX_WIRE_KEYS:
                        self.store.wire.clear()
                    self.store.wire[key] = stored
        return body
