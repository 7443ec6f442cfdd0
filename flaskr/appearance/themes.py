"""The reader's theme: system (follow the device), light or dark, kept in a cookie.

The choice is a display preference of one browser, so it lives in a cookie of
its own rather than in the session: anonymous readers keep it without getting
a session (which would take their pages out of the page cache). Pages differ
by it (`<html data-theme>`), so the page cache keys them by it too.
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.http import parse_cookie

COOKIE = "theme"
#: Themes a reader can choose; "system" (no cookie) follows the device's setting.
CHOSEN = ("light", "dark")
SYSTEM = "system"
CHOICES = (SYSTEM, *CHOSEN)
#: A year, renewed at each choice.
MAX_AGE = 365 * 86400


def theme_of(cookies: Mapping[str, str]) -> str | None:
    """The theme chosen in these cookies ('light' or 'dark'), or None to follow the device."""
    # Asked first: werkzeug's get() raises and catches an exception for an absent
    # key (1.5 us, on every page that shows the theme).
    if COOKIE not in cookies:
        return None
    chosen = cookies[COOKIE]
    return chosen if chosen in CHOSEN else None


def theme_of_header(cookie_header: str) -> str | None:
    """theme_of() for a raw Cookie header (the page cache reads it before Flask runs).

    Read exactly as Flask reads it (werkzeug's parser also takes "theme =dark"):
    only a header that cannot name the cookie at all skips the parse.
    """
    if COOKIE not in cookie_header:
        return None
    return theme_of(parse_cookie(cookie_header))
