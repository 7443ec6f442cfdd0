"""Building the site's own links quickly: each distinct link is built once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask, request, url_for
from werkzeug.routing import IntegerConverter

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
    return _cached(request.script_root, endpoint, tuple(sorted(values.items())))


def init_app(app: Flask) -> None:
    """Bound integer URL parts to real ids; make link() available in templates."""
    app.url_map.converters["int"] = IdConverter
    app.add_template_global(link, "link")
