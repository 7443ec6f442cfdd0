"""Template macros and helpers every page may call (form, pager) without importing them.

`{% from "macros/..." import ... %}` in a template costs a list page about a
tenth of its time: Jinja compares the importing template's globals with the
macro file's on every import in every render. As globals, the macros are
looked up like `link()`, from the macro file Jinja already keeps loaded
(reloaded when it changes, with TEMPLATES_AUTO_RELOAD).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import Environment

from flaskr.paging import pager

#: Macro file -> the macros in it that templates call by name.
MACROS = {
    "macros/forms.html": ("form",),
    "macros/comments.html": ("comment_form",),
}


def _macro(env: Environment, path: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(env.get_template(path).module, name)(*args, **kwargs)

    call.__name__ = name
    return call


def init_app(app: Flask) -> None:
    """Make the shared macros template globals."""
    # `article` is blog.articles.article: it keeps what the macro renders.
    for path, names in MACROS.items():
        for name in names:
            app.jinja_env.globals[name] = _macro(app.jinja_env, path, name)
    app.jinja_env.globals["pager"] = pager
