"""Times as authors see them (their own time zone) and as flaskr stores them (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext

from flaskr.validation import ValidationError

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
# Publish times typed in any zone must stay four-digit years in UTC and in every
# reader's zone (offsets reach about 16 hours): Python's calendar ends at the
# years 1 and 9999, and feeds, sitemaps and the editor need four digits.
EARLIEST_YEAR, LATEST_YEAR = 1001, 9998


def zone(name: str | None) -> ZoneInfo:
    """The time zone with this IANA name, UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@cache
def _known_zones() -> frozenset[str]:
    # Listing the zones walks the tz database on disk (tens of ms): once per process.
    # "localtime" is this server's own zone, not a place an author lives in.
    return frozenset(available_timezones() | {"UTC"}) - {"localtime"}


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA time zone an author can choose, sorted: the account page's list."""
    return tuple(sorted(_known_zones()))


def check_timezone(name: str) -> str:
    """Return the name (trimmed) if it is a known IANA time zone, else raise ValidationError."""
    name = name.strip()
    if name not in _known_zones():
        raise ValidationError(
            gettext(
                "Unknown time zone %(name)s. Use a name like Europe/Berlin.", name=repr(name[:64])
            )
        )
    return name


def parse_local(text: str | None, tz_name: str | None) -> datetime | None:
    """Read a datetime-local field typed in the author's zone; return naive UTC (None if empty)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        local = datetime.strptime(text[:16], LOCAL_FORMAT)
    except ValueError:
        raise ValidationError(gettext("Publish time must look like 2026-12-31T18:30.")) from None
    if not EARLIEST_YEAR <= local.year <= LATEST_YEAR:
        raise ValidationError(
            gettext(
                "Publish time must be in the years %(first)d to %(last)d.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    return local.replace(tzinfo=zone(tz_name)).astimezone(UTC).replace(tzinfo=None)


def to_local(value: datetime | None, tz_name: str | None) -> datetime | None:
    """A stored UTC time in the author's zone (aware)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC).astimezone(zone(tz_name))
    except OverflowError:
        # Only a time written by plain SQL at the very edge of the calendar: show it in UTC.
        return value.replace(tzinfo=UTC)
