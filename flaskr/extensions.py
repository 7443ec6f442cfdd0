"""Extension objects, bound to the app in create_app()."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

#: Limiter attributes that belong to one app: its on/off switch and its storage.
_PER_APP = ("enabled", "_storage", "_limiter", "_key_prefix")


def _per_app(name: str) -> property:
    """An attribute read from the current app's limiter state (else the default)."""

    def get(self: AppLimiter) -> Any:
        state = self.__dict__.get("_initializing")
        if state is None and has_app_context():
            state = current_app.extensions.get("flaskr.limiter")
        if state is not None and name in state:
            return state[name]
        return self.__dict__.get(f"_default{name}")

    def set_(self: AppLimiter, value: Any) -> None:
        state = self.__dict__.get("_initializing")
        if state is not None:
            state[name] = value
        else:
            self.__dict__[f"_default{name}"] = value

    return property(get, set_)


class AppLimiter(Limiter):
    """Flask-Limiter, with storage and on/off kept per app rather than per process.

    Flask-Limiter keeps them on the one extension object, so the last app built in
    a process (a test, a CLI call next to a server) would set them for every app.
    """

    enabled = _per_app("enabled")
    _storage = _per_app("_storage")
    _limiter = _per_app("_limiter")
    _key_prefix = _per_app("_key_prefix")

    def init_app(self, app: Flask) -> None:
        """Bind to app, keeping this app's limiter state in app.extensions."""
        state: dict[str, Any] = {}
        self.__dict__["_initializing"] = state
        try:
            super().init_app(app)
        finally:
            self.__dict__["_initializing"] = None
        app.extensions["flaskr.limiter"] = state


csrf = CSRFProtect()
limiter = AppLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
