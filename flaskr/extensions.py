"""Extension objects, bound to the app in create_app()."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from flaskr.contexts import this_request


class _CSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, its hook asked only by requests it would check.

    Flask-WTF's before-request hook looks up the view's exemptions before it
    looks at the method, on every page view. Here the method comes first: a
    request whose method is not in WTF_CSRF_METHODS (GET, HEAD, OPTIONS) passes
    the hook untouched either way, and every other request meets Flask-WTF's own.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        hooks = app.before_request_funcs[None]
        checked = hooks[-1]  # the hook Flask-WTF has just added
        if checked.__name__ != "csrf_protect":
            raise RuntimeError(f"Flask-WTF's CSRF hook not found (found {checked!r})")
        config = app.config

        def csrf_protect() -> None:
            if this_request().method in config["WTF_CSRF_METHODS"]:
                checked()

        hooks[-1] = csrf_protect


csrf = _CSRFProtect()
