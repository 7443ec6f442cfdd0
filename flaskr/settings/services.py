"""Site settings: what admins may change in the admin area, and how each process learns of it.

The settings below live in `app.config` like every other. An operator who set
one (environment, instance/config.py, or a test's config) keeps it: the admin
page shows it and says why it cannot be changed there. The others take the
value an admin stored, else their default.

A stored change bumps the content version (a database trigger), as a new post
does. Each process reloads the stored settings when it sees a new version: a
page the cache keeps is made after that check (`ensure_current`, which the
page cache calls with the version it keys the page by), so no page is kept
with old settings under a new version; any other request checks at most once
a second (`refresh_if_due`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext, lazy_gettext

from flaskr.contexts import this_app
from flaskr.db import transaction, utcnow
from flaskr.i18n import LANGUAGES
from flaskr.invites.services import MODES
from flaskr.policy import DEFAULT_ROLES, TWO_FACTOR_MODES
from flaskr.settings import queries
from flaskr.timezones import check_timezone
from flaskr.validation import ValidationError, require_text

#: How often (seconds) a request that no page cache serves checks for new settings.
CHECK_EVERY = 1.0


def _one_of(choices: Any) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise ValidationError(gettext("Choose a value from the list."))
        return value

    return check


def _time_zone(value: str) -> str:
    try:
        return check_timezone(value)
    except ValueError:
        raise ValidationError(
            gettext("Choose a time zone from the list, such as Europe/Berlin.")
        ) from None


#: A yes/no setting's two values, as the form sends them and as they are stored.
SWITCH = ("on", "off")


@dataclass(frozen=True)
class Setting:
    """One setting the admin page edits: `check` turns what the form sent (or what was
    stored) into the value flaskr uses, or raises ValidationError."""

    name: str
    label: Any
    check: Callable[[str], Any]
    choices: tuple[str, ...] = ()
    max_len: int = 0
    #: "text", "switch" (on/off: True/False) or "number" (a whole number in `bounds`).
    kind: str = "text"
    bounds: tuple[int, int] = (0, 0)
    hint: Any = ""
    #: The page's section: "" (the site) or "comments".
    group: str = ""

    def text(self, value: Any) -> str:
        """The value as the form shows it and the database stores it."""
        if self.kind == "switch":
            return SWITCH[0] if value else SWITCH[1]
        if isinstance(value, list | tuple):  # banned words given as a list in config.py
            return ", ".join(str(item) for item in value)
        return "" if value is None else str(value)


def _text(label: Any, max_len: int, required: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        return require_text(value, str(label), max_len=max_len, required=required).strip()

    return check


#: What a switch reads as on and as off: the form's on/off, and an operator's true/false.
_SWITCH_TEXT = {"on": True, "true": True, "off": False, "false": False}


def _switch(value: str) -> bool:
    found = _SWITCH_TEXT.get(value.strip().lower())
    if found is None:
        raise ValidationError(gettext("Choose a value from the list."))
    return found


def _number(label: Any, low: int, high: int) -> Callable[[str], int]:
    def check(value: str) -> int:
        value = value.strip()
        if value.isascii() and value.isdigit():
            value = value.lstrip("0") or "0"
        # At most seven digits: int() of a huge string is slow, and no bound is that big.
        if not (value.isascii() and value.isdigit() and len(value) <= 7) or not (
            low <= int(value) <= high
        ):
            raise ValidationError(
                gettext(
                    "%(label)s: enter a whole number from %(low)s to %(high)s.",
                    label=label,
                    low=low,
                    high=high,
                )
            )
        return int(value)

    return check


def _count(name: str, label: Any, high: int, hint: Any) -> Setting:
    """A whole-number comment setting from 0 to `high`."""
    return Setting(
        name,
        label,
        _number(label, 0, high),
        kind="number",
        bounds=(0, high),
        hint=hint,
        group="comments",
    )


#: The settings admins may change, in the page's order.
SETTINGS = (
    Setting(
        "SITE_NAME",
        lazy_gettext("Site name"),
        _text(lazy_gettext("Site name"), 100, True),
        max_len=100,
    ),
    Setting(
        "SITE_DESCRIPTION",
        lazy_gettext("Description"),
        _text(lazy_gettext("Description"), 300, False),
        max_len=300,
    ),
    Setting("LANGUAGE", lazy_gettext("Language"), _one_of(LANGUAGES), tuple(LANGUAGES)),
    Setting("TIMEZONE", lazy_gettext("Time zone"), _time_zone),
    Setting("REGISTRATION", lazy_gettext("Registration"), _one_of(MODES), MODES),
    Setting(
        "DEFAULT_ROLE", lazy_gettext("Role of new accounts"), _one_of(DEFAULT_ROLES), DEFAULT_ROLES
    ),
    Setting(
        "TWO_FACTOR",
        lazy_gettext("Two-factor login"),
        _one_of(TWO_FACTOR_MODES),
        TWO_FACTOR_MODES,
    ),
    Setting(
        "COMMENTS_GUESTS",
        lazy_gettext("Comments from guests"),
        _switch,
        SWITCH,
        kind="switch",
        hint=lazy_gettext(
            "Visitors comment under a name; it shows once they follow a mailed link."
        ),
        group="comments",
    ),
    Setting(
        "COMMENTS_HOLD_FIRST",
        lazy_gettext("Hold a commenter's comments until one is approved"),
        _switch,
        SWITCH,
        kind="switch",
        group="comments",
    ),
    _count(
        "COMMENTS_CLOSE_AFTER_DAYS",
        lazy_gettext("Close comments on posts older than (days)"),
        36500,
        lazy_gettext("0: never"),
    ),
    _count(
        "COMMENTS_EDIT_MINUTES",
        lazy_gettext("Commenters may edit a comment for (minutes)"),
        10080,
        lazy_gettext("0: not at all"),
    ),
    _count(
        "COMMENTS_MAX_LINKS",
        lazy_gettext("Hold comments with more links than"),
        100,
        "",
    ),
    _count(
        "COMMENTS_NEW_ACCOUNT_HOURS",
        lazy_gettext("Hold comments from accounts younger than (hours)"),
        8760,
        lazy_gettext("0: off"),
    ),
    Setting(
        "COMMENTS_BANNED_WORDS",
        lazy_gettext("Words that hold a comment"),
        _text(lazy_gettext("Words that hold a comment"), 2000, False),
        max_len=2000,
        hint=lazy_gettext("Separated by commas; each a whole word or phrase, in any case."),
        group="comments",
    ),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass
class _Loaded:
    """What this process applied: the content version it read the settings at."""

    defaults: dict[str, Any]
    operator: frozenset[str]
    #: The names this process last took from the database.
    applied: frozenset[str] = frozenset()
    version: int | None = None
    checked: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask, operator_set: set[str]) -> None:
    """Remember each setting's default and which ones the operator set; check for new
    settings before requests.

    A switch or number the operator wrote as text (FLASKR_COMMENTS_GUESTS=off,
    "3" in instance/config.py) is read as the page would read it: the app must
    not take "off" for true. One it cannot read stops the app with ConfigError.
    """
    from flaskr.config import ConfigError

    with app.app_context():
        for setting in SETTINGS:
            value = app.config[setting.name]
            if setting.kind in ("switch", "number") and isinstance(value, str):
                try:
                    app.config[setting.name] = setting.check(value)
                except ValidationError as error:
                    raise ConfigError(f"{setting.name}={value!r}: {error}") from None
    app.extensions["flaskr.settings"] = _Loaded(
        defaults={s.name: app.config[s.name] for s in SETTINGS},
        operator=frozenset(name for name in _BY_NAME if name in operator_set),
    )
    app.before_request(refresh_if_due)


def _state() -> _Loaded:
    return this_app().extensions["flaskr.settings"]


def set_by_operator(name: str) -> bool:
    """True when the server's configuration set this setting: the admin page can't."""
    return name in _state().operator


def refresh_if_due() -> None:
    """At most once a second per process: apply settings stored since the last look."""
    state = _state()
    now = time.monotonic()
    if now - state.checked < CHECK_EVERY:
        return
    state.checked = now
    from flaskr.blog.queries import content_version

    try:
        version = content_version()
    except sa.exc.DBAPIError as error:
        # A database that is down or not migrated yet (AUTO_MIGRATE off): the request
        # goes on with the settings this process has; a page that needs the database
        # answers for it (the 503 page), and /hello keeps answering.
        current_app.logger.warning("site settings not checked: %s", error.orig or error)
        return
    ensure_current(version)


def ensure_current(version: int | None) -> None:
    """Apply the stored settings if they were last read at another content version."""
    state = _state()
    if version is not None and version == state.version:
        return
    with state.lock:
        if version is not None and version == state.version:
            return
        _apply(queries.stored(), state)
        state.version = version


def _apply(stored: dict[str, str], state: _Loaded) -> None:
    config = current_app.config
    applied = set()
    for setting in SETTINGS:
        if setting.name in state.operator:
            continue
        value = stored.get(setting.name)
        if value is None and setting.name not in state.applied:
            # Never stored: the value stays the one the app started with (its default).
            continue
        try:
            config[setting.name] = (
                setting.check(value) if value is not None else state.defaults[setting.name]
            )
            applied.add(setting.name)
        except ValidationError:
            # A value written by hand that flaskr cannot use: the default, as if unset.
            config[setting.name] = state.defaults[setting.name]
    state.applied = frozenset(applied)
    config["BABEL_DEFAULT_LOCALE"] = config["LANGUAGE"]


def current() -> list[dict[str, Any]]:
    """Every editable setting with its value now (as the form shows it) and whether the
    operator set it."""
    config = current_app.config
    return [
        {"setting": s, "value": s.text(config[s.name]), "fixed": set_by_operator(s.name)}
        for s in SETTINGS
    ]


def save(form: dict[str, str], by: int) -> list[str]:
    """Check and store the settings an admin sent (those the operator did not set); the
    names of those that changed. Nothing is stored if any value is refused."""
    config = current_app.config
    changes = {}
    for setting in SETTINGS:
        if set_by_operator(setting.name) or setting.name not in form:
            continue
        value = setting.check(form[setting.name])
        if setting.text(value) != setting.text(config[setting.name]):
            changes[setting.name] = setting.text(value)
    if changes:
        now = utcnow()
        with transaction():
            for name, text in changes.items():
                queries.save(name, text, now, by)
        # This process at once; the others when they see the new version.
        ensure_current(None)
    return sorted(changes)
