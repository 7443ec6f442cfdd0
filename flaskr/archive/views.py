"""The archive pages: all months with counts, a year's months, a month's posts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from flaskr.archive import services
from flaskr.pagecache import cached_page
from flaskr.paging import existing, page_number
from flaskr.policy import public

bp = Blueprint("archive", __name__, url_prefix="/archive")

#: Years an archive address may name (post times are kept in years 1001-9998).
FIRST_YEAR, LAST_YEAR = 1001, 9998


@bp.route("/")
@public
@cached_page
def index():
    """Every year and month with posts, with how many."""
    return render_template("archive/index.html", years=_by_year(services.months()))


@bp.route("/<int:year>/")
@public
@cached_page
def year(year: int):
    """The months of one year that have posts, with how many."""
    found = _by_year(m for m in services.months() if m[0] == year)
    if not found:
        abort(404)
    return render_template("archive/index.html", years=found, year=year)


@bp.route("/<int:year>/<int:month>/")
@public
@cached_page
def month(year: int, month: int):
    """The posts published in one month, newest first."""
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        abort(404)
    page = existing(services.month_page(year, month, page_number()))
    if not page.items:
        abort(404)
    return render_template(
        "archive/month.html",
        year=year,
        month=month,
        posts=page.items,
        page=page,
    )


def _by_year(months) -> list[tuple[int, int, list[tuple[int, int]]]]:  # noqa: ANN001
    """[(year, posts that year, [(month, posts)])], newest first."""
    years: dict[int, list[tuple[int, int]]] = {}
    for year_, month_, posts in months:
        years.setdefault(year_, []).append((month_, posts))
    return [(y, sum(n for _, n in ms), ms) for y, ms in years.items()]
