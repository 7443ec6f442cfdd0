"""HTML escaping for templates: markupsafe's, without copying what is already safe.

An autoescaping template passes every `{{ value }}` through markupsafe's
`escape`, which builds its answer through Markup's constructor, written in
Python. For a value that is already Markup - a rendered post, a macro's
output, a translated message - that means copying the whole string: a list
page copies its posts' HTML that way, about 5% of a cold `/`.

`escape` writes the same text: Markup comes back as it is (it is immutable,
so the same object serves), a plain str is escaped by markupsafe's own
escaper and wrapped without the constructor, and anything else goes to
markupsafe. Templates call it through `QuickEscapeTemplate`.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import CodeType
from typing import Any

from jinja2 import Environment, Template
from markupsafe import Markup
from markupsafe import escape as markupsafe_escape

try:  # the function markupsafe.escape itself calls for a str (C, or its Python twin)
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - markupsafe built without its C speedups
    from markupsafe._native import _escape_inner

_wrap = str.__new__


def escape(value: Any) -> Markup:
    """`value` as HTML text, exactly as markupsafe.escape writes it."""
    kind = type(value)
    if kind is Markup:
        return value
    if kind is str:
        return _wrap(Markup, _escape_inner(value))
    return markupsafe_escape(value)


class QuickEscapeTemplate(Template):
    """A Jinja template whose `{{ ... }}` are escaped by `escape` above."""

    @classmethod
    def from_code(
        cls,
        environment: Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> Template:
        """Load the compiled template, pointing its `escape` at ours."""
        template = super().from_code(environment, code, globals, uptodate)
        # Compiled code calls `escape` as a global of the template's module,
        # bound when the module is run: every block and macro shares it.
        template.root_render_func.__globals__["escape"] = escape
        return template
