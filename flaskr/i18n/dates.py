"""Times as each reader reads them: in their time zone, written the way their language writes dates.

Stored times are naive UTC. A signed-in reader sees them in the time zone of
their account, everyone else in the site's (the TIMEZONE setting). English
keeps the ISO form the blog has always shown ("2026-11-30", "2026-11-30
18:30"); other languages use their own (German "30.11.2026"), from Babel's
CLDR data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale
from babel import dates as cldr
from flask import Flask, current_app
from flask.globals import _cv_app, _cv_request
from flask_babel import gettext, ngettext

from flaskr.config import ConfigError
from flaskr.i18n.languages import current_language
from flaskr.timezones import check_timezone, to_local
from flaskr.validation import ValidationError

#: Languages whose dates keep the ISO form.
_ISO = frozenset({"en"})


def reader_zone() -> str:
    """The IANA time zone this request's reader sees times in."""
    # The contexts themselves rather than has_request_context(), `g` and
    # current_app: a list page asks once per post, and each proxy lookup costs
    # (2.2 us a call through the proxies, a tenth of that without).
    context = _cv_app.get(None)
    if context is None:
        return str(current_app.config["TIMEZONE"])  # raises: outside an app, no setting
    user = context.g.__dict__.get("user") if _cv_request.get(None) is not None else None
    if user is not None:
        return str(user["timezone"])
    return str(context.app.config["TIMEZONE"])


def _for_reader(value: datetime) -> tuple[datetime, str | None]:
    """A stored time in the reader's zone, and their language (None: ISO forms)."""
    local = to_local(value, reader_zone())
    assert local is not None  # noqa: S101 - value is not None
    language = current_language()
    return local, None if language in _ISO else language


def day(value: datetime) -> str:
    """The date of a stored time, in the reader's zone and language."""
    local, language = _for_reader(value)
    if language is None:
        # ISO 8601, as strftime's "%Y-%m-%d" writes it from the year 1000 on, at a sixth the cost.
        return local.date().isoformat()
    return cldr.format_date(local.date(), "medium", locale=language)


def moment(value: datetime) -> str:
    """The date and minute of a stored time, in the reader's zone and language."""
    local, language = _for_reader(value)
    if language is None:
        return local.strftime("%Y-%m-%d %H:%M")
    # The language's own way of joining a date and a time ("{1}, {0}" in German).
    joined = Locale.parse(language).datetime_formats["medium"]
    date = cldr.format_date(local.date(), "medium", locale=language)
    time = cldr.format_time(local, "short", locale=language)
    return joined.replace("{1}", date).replace("{0}", time)


def clock(value: datetime) -> str:
    """The hour and minute of a stored time, in the reader's zone and language."""
    local, language = _for_reader(value)
    if language is None:
        return local.strftime("%H:%M")
    return cldr.format_time(local, "short", locale=language)


def month_name(month: int) -> str:
    """The name of a month (1-12) in the reader's language, as a heading writes it."""
    return cldr.get_month_names("wide", "stand-alone", locale=current_language())[month]


def ago(value: datetime, now: datetime | None = None) -> str:
    """How long ago a stored UTC time was, in words ("2 hours ago"); the date past a week."""
    seconds = ((now or datetime.now(UTC).replace(tzinfo=None)) - value).total_seconds()
    if seconds < 60:
        return gettext("just now")
    if seconds >= 8 * 86400:
        return day(value)
    if seconds >= 86400:
        count = int(seconds // 86400)
        return ngettext("%(num)d day ago", "%(num)d days ago", count)
    if seconds >= 3600:
        count = int(seconds // 3600)
        return ngettext("%(num)d hour ago", "%(num)d hours ago", count)
    count = int(seconds // 60)
    return ngettext("%(num)d minute ago", "%(num)d minutes ago", count)


def init_app(app: Flask) -> None:
    """Check the site's time zone and make the date helpers template filters."""
    try:
        check_timezone(str(app.config["TIMEZONE"]))
    except ValidationError:
        raise ConfigError(
            "TIMEZONE must be an IANA time zone such as Europe/Berlin, "
            f"not {app.config['TIMEZONE']!r}."
        ) from None
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(ago, "ago")
    app.add_template_filter(month_name, "month_name")
    app.add_template_global(reader_zone, "reader_zone")
