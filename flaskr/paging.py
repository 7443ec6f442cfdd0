"""Page numbers from the query string, the page of rows a list shows, and its pager."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, request
from markupsafe import Markup, escape

from flaskr.i18n.languages import chosen
from flaskr.links import link

#: No list goes deeper than this; beyond it a page number is a 404, not a slow scan.
MAX_PAGE = 1_000_000


def page_number(name: str = "page") -> int:
    """The ?page=N (or another name=N) of this request (1 when absent); anything that is
    not a page is a 404."""
    args = request.args
    # Asked first: werkzeug's get() raises and catches an exception for an absent
    # key (1.5 us, on every list page).
    if name not in args:
        return 1
    raw = args[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
        abort(404)
    number = int(raw)
    if not 1 <= number <= MAX_PAGE:
        abort(404)
    return number


@dataclass
class Page:
    """One page of a list: its rows, whether newer/older pages exist, and how many
    pages there are where counting them is cheap (None elsewhere)."""

    items: list[Any]
    number: int
    has_next: bool
    pages: int | None = None

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def past_the_end(self) -> bool:
        """True for an empty page after the first: a page number that does not exist."""
        return self.number > 1 and not self.items


def make_page(rows: Sequence[Any], number: int, per_page: int, *, total: int | None = None) -> Page:
    """Cut the per_page+1 rows a query fetched into a page; `total`, the list's length
    when it is known cheaply, lets the pager say "Page N of M"."""
    pages = None if total is None else max(1, -(-total // per_page))
    return Page(
        items=list(rows[:per_page]), number=number, has_next=len(rows) > per_page, pages=pages
    )


def existing(page: Page) -> Page:
    """The page, or 404 when its number is past the end of the list (for views)."""
    if page.past_the_end:
        abort(404)
    return page


def pager(page: Page, endpoint: str, **values: Any) -> Markup:
    """The links to the list's newer and older pages around "Page N" (or "Page N of M"),
    each a link to `endpoint` with `values`; nothing when the list has one page.

    Written as text rather than as a macro or with Markup's operators: either
    cost a list page about 15 microseconds, several times this.
    """
    if not (page.has_prev or page.has_next):
        return Markup("")
    # The messages are trusted markup, as a template's _() gives them: the
    # catalogue is ours. The links are escaped; the numbers are digits.
    _ = chosen()[1].ugettext
    number = page.number
    parts = ['\n<nav class="pager" aria-label="', _("Pages"), '">\n  ']
    if page.has_prev:
        # Page 1 is the list's own address, without ?page=1.
        before = {"page": number - 1} if number > 2 else {}
        newer = link(endpoint, **before, **values)
        parts += ['<a rel="prev" href="', escape(newer), '">&larr; ', _("Newer"), "</a>"]
    parts.append('\n  <span class="pager-current">')
    if page.pages:
        parts.append(_("Page %(number)d of %(count)d") % {"number": number, "count": page.pages})
    else:
        parts.append(_("Page %(number)d") % {"number": number})
    parts.append("</span>\n  ")
    if page.has_next:
        older = link(endpoint, page=number + 1, **values)
        parts += ['<a rel="next" href="', escape(older), '">', _("Older"), " &rarr;</a>"]
    parts.append("\n</nav>\n")
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - escaped above
