"""One Flask-Limiter per app: views declare their limits with limit(), init_app() applies them."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from flaskr.ratelimit.storage import storage_uri

View = TypeVar("View", bound=Callable[..., Any])

#: The attribute on a view function that holds its declared limits.
_DECLARED = "flaskr_rate_limits"
#: A Redis that stops answering must not hold requests: give up after this long
#: and count in memory instead (RATELIMIT_STORAGE_OPTIONS overrides it).
REDIS_TIMEOUT_SECONDS = 1.0


def limit(value: str | Callable[[], str], **options: Any) -> Callable[[View], View]:
    """Declare a rate limit on a view (Limiter.limit's arguments); each app applies it."""

    def declare(view: View) -> View:
        # A new list, not append: functools.wraps copies the attribute to wrappers.
        setattr(view, _DECLARED, [*getattr(view, _DECLARED, ()), (value, options)])
        return view

    return declare


def signed_in_user() -> str:
    """Key function: the signed-in user (for limits on what users write)."""
    return f"user:{g.user['id']}"


def signed_out() -> bool:
    """exempt_when: nobody is signed in (login_required will send them to log in)."""
    # Limits wrap the whole view, login_required included.
    return g.get("user") is None


def config_value(name: str) -> Callable[[], str]:
    """A limit read from the app's settings at request time."""
    return lambda: current_app.config[name]


#: What users write (posts saved and previewed, pictures uploaded) renders Markdown or
#: decodes pictures: a budget per user (RATELIMIT_WRITE) keeps the workers free.
write_limit = limit(
    config_value("RATELIMIT_WRITE"),
    methods=["POST"],
    key_func=signed_in_user,
    exempt_when=signed_out,
)


def init_app(app: Flask) -> None:
    """Give the app its own limiter and wrap each view that declared limits."""
    config = app.config
    uri = config.setdefault(
        "RATELIMIT_STORAGE_URI", storage_uri(config["DATABASE"], config["REDIS_URL"])
    )
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            },
        )
    # A limiter per app, not one per process: storage, on/off and the outage state
    # belong to one app (tests build many; a CLI call may run beside a server).
    limiter = Limiter(
        get_remote_address,
        # Redis down, or the counters' file unwritable: count in this process's
        # memory (logged once), re-check the storage with backoff, switch back.
        in_memory_fallback_enabled=True,
        # Flask-Limiter's headers put its Retry-After on every limited response,
        # 200s and 503s included; _retry_after() sends it on 429s only.
        headers_enabled=False,
        # Evaluate every limit of a request, so Retry-After is the longest wait.
        fail_on_first_breach=False,
    )
    limiter.init_app(app)
    app.extensions["flaskr.limiter"] = limiter
    _drop_unneeded_hooks(app, limiter)
    if not limiter.enabled:
        return  # no wrappers: a request costs nothing when limits are off
    wrapped: dict[Callable[..., Any], Callable[..., Any]] = {}
    for endpoint, view in list(app.view_functions.items()):
        declared = getattr(view, _DECLARED, ())
        if declared and view not in wrapped:
            guarded: Callable[..., Any] = view
            for value, options in declared:
                guarded = limiter.limit(value, **options)(guarded)
            wrapped[view] = guarded
        if view in wrapped:
            app.view_functions[endpoint] = wrapped[view]
    app.after_request(_retry_after)


#: Settings for limits on every request; each view's own limits are checked by its wrapper.
APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _drop_unneeded_hooks(app: Flask, limiter: Limiter) -> None:
    """Remove Flask-Limiter's per-request hooks where they can find nothing to do.

    Its before-request hook looks for app-wide limits (a quarter of /hello's cost
    finding none); the limits views declare are checked by their own wrappers.
    Its after-request hook adds headers (disabled here) and applies deduct_when;
    its teardown resets state kept on the request context, which ends anyway.
    """
    # New lists, not in-place removal: a request in flight iterates the old ones.
    teardown = app.teardown_request_funcs.setdefault(None, [])
    app.teardown_request_funcs[None] = [
        f for f in teardown if getattr(f, "__self__", None) is not limiter
    ]
    if not any(app.config.get(name) for name in APP_WIDE_LIMITS):
        before = app.before_request_funcs.setdefault(None, [])
        app.before_request_funcs[None] = [f for f in before if f != limiter._check_request_limit]
    declared = (getattr(view, _DECLARED, ()) for view in app.view_functions.values())
    if not any("deduct_when" in options for limits in declared for _, options in limits):
        after = app.after_request_funcs.setdefault(None, [])
        app.after_request_funcs[None] = [f for f in after if not _is_limiter_hook(f, limiter)]


def _is_limiter_hook(hook: Callable[..., Any], limiter: Limiter) -> bool:
    # Flask-Limiter registers its after-request hook as partial(<private>, limiter).
    return isinstance(hook, functools.partial) and hook.args == (limiter,)


def _retry_after(response: Response) -> Response:
    """On a 429, say how long until every limit that was exceeded lets requests through."""
    if response.status_code != 429:
        return response
    limiter: Limiter = current_app.extensions["flaskr.limiter"]
    now = time.time()
    waits = []
    for request_limit in limiter.current_limits:
        if not request_limit.breached:
            continue
        window = request_limit.limit.get_expiry()
        try:
            # Never longer than the window: Redis keeps expiry in whole seconds.
            waits.append(min(math.ceil(request_limit.window.reset_time - now), window))
        except Exception:  # noqa: BLE001 - storage gone mid-request: the whole window
            waits.append(window)
    if waits:
        response.headers["Retry-After"] = str(max(1, max(waits)))
    return response
