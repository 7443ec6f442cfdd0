"""Building the site's own links quickly: each distinct link is built once per process.

Templates call `link(endpoint, **values)`. A call whose values are all written
in the template (`link('static', filename='style.css')`, the page frame's dozen
links) is turned into a table lookup when the template compiles: see
ConstantLinks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from flask import Flask, url_for
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from flaskr.contexts import this_request

#: The largest id the databases store (a 32-bit signed INTEGER on PostgreSQL).
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: numbers past any stored id are a 404, not a database error."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


# A list page links to every post, tag and author it shows: dozens of url_for()
# calls per page, each a route-map walk. The same link always builds the same
# path (for one script root), so remember it.


@lru_cache(maxsize=16384)
def _cached(_script_root: str, endpoint: str, items: tuple[tuple[str, Any], ...]) -> str:
    return url_for(endpoint, **dict(items))


def link(endpoint: str, **values: Any) -> str:
    """url_for() for a site-relative link, remembered per script root and arguments."""
    return _cached(this_request().script_root, endpoint, tuple(sorted(values.items())))


#: The name templates see the constant links' table under.
TABLE = "site_links"
#: Script roots whose tables are kept (a proxy may set the root per request).
MAX_ROOTS = 64


class LinkTable(dict[str, str]):
    """The constant links of one script root, each built by link() on first use.

    Keys are what ConstantLinks writes: the JSON of [endpoint, [[name, value], ...]].
    (The table belongs to one script root, as link()'s cache entries do.)
    """

    def __missing__(self, key: str) -> str:
        endpoint, items = json.loads(key)
        built: str = link(endpoint, **dict(items))
        if escape(built) == built:
            # Nothing in it to escape: kept as markup, which an autoescaping page
            # writes as it is instead of escaping it again on every render (and
            # which reads the same where a template does not escape).
            built = Markup(built)  # noqa: S704  # nosec B704 - checked just above
        self[key] = built
        return built


def link_table(app: Flask) -> LinkTable:
    """The constant links' table of this request's script root."""
    tables: dict[str, LinkTable] = app.extensions["flaskr.link_tables"]
    root = this_request().script_root
    found = tables.get(root)
    if found is None:
        found = LinkTable()
        if len(tables) < MAX_ROOTS:
            tables[root] = found
    return found


class _EveryRoot:
    """The table for templates rendered outside render_template() (macro files
    called through their module), which see globals, not context processors."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __getitem__(self, key: str) -> str:
        return link_table(self.app)[key]


class ConstantLinks(Extension):
    """Compiles `link('endpoint', name='value', ...)` with only quoted strings in it
    into `site_links["<key>"]`: a dict lookup instead of a function call, which
    costs a list page about 3 microseconds a link through Jinja's call machinery.
    The link is built by link() itself the first time a script root needs it.
    Every template's `link` is this module's (none names a variable `link`); a
    call it cannot read as constant stays a call, so the output is the same either way.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        """The template's tokens, constant link calls replaced by table lookups."""
        previous: Token | None = None
        pending: list[Token] = []
        for token in stream:
            if not pending:
                if token.type == "name" and token.value == "link" and _not_attribute(previous):
                    pending.append(token)
                else:
                    yield token
                previous = token
                continue
            pending.append(token)
            state = _shape(pending)
            if state == "partial":
                continue
            if state == "complete":
                yield from _lookup(pending)
            else:
                yield from pending
            previous = pending[-1]
            pending = []
        yield from pending


#: The token types allowed after the endpoint, in turn: `, name = 'value'` or `)`.
_AFTER_ENDPOINT: tuple[tuple[str, ...], ...] = (
    ("comma", "rparen"),
    ("name",),
    ("assign",),
    ("string",),
)


def _not_attribute(previous: Token | None) -> bool:
    return previous is None or previous.type != "dot"


def _shape(tokens: list[Token]) -> str:
    """'complete' for `link ( string (, name = string)* )`, 'partial' while it may
    still become one, else 'other'."""
    # After `link`: lparen, string, then groups of comma name assign string, then rparen.
    for index, token in enumerate(tokens[1:], start=1):
        expected: tuple[str, ...]
        if index == 1:
            expected = ("lparen",)
        elif index == 2:
            expected = ("string",)
        else:
            expected = _AFTER_ENDPOINT[(index - 3) % 4]
        if token.type not in expected:
            return "other"
        if token.type == "rparen":
            return "complete"
    return "partial"


def _lookup(tokens: list[Token]) -> Iterator[Token]:
    """The tokens of `site_links["<key>"]` for the constant call `tokens`."""
    endpoint = tokens[2].value
    values = sorted(
        (tokens[index].value, tokens[index + 2].value) for index in range(4, len(tokens) - 1, 4)
    )
    key = json.dumps([endpoint, values])
    lineno = tokens[0].lineno
    yield Token(lineno, "name", TABLE)
    yield Token(lineno, "lbracket", "[")
    yield Token(lineno, "string", key)
    yield Token(tokens[-1].lineno, "rbracket", "]")


def init_app(app: Flask) -> None:
    """Bound integer URL parts to real ids; make link() available in templates."""
    app.url_map.converters["int"] = IdConverter
    app.add_template_global(link, "link")
    app.extensions["flaskr.link_tables"] = {}
    app.jinja_env.globals[TABLE] = _EveryRoot(app)
    app.jinja_env.add_extension(ConstantLinks)
    # Per render, the table itself: a lookup in it is a plain dict lookup.
    app.context_processor(lambda: {TABLE: link_table(app)})
