"""The languages flaskr speaks, and which one each request is answered in.

A signed-in reader's own choice (the account page) wins; everyone else gets
the best match for their browser's Accept-Language, else the site's language
(the LANGUAGE setting). Anonymous pages are kept by the page cache per
language, so the choice is a pure function of the header (negotiate()), which
the cache can call before Flask runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from flask import Flask, has_request_context
from flask.globals import _cv_app
from flask_babel import Babel, force_locale
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from flaskr import security
from flaskr.config import ConfigError
from flaskr.contexts import this_app, this_g, this_request

#: Every language the interface is translated into, named in itself (a reader
#: looking for their language must recognise it). English is the source.
LANGUAGES = {"en": "English", "de": "Deutsch"}
#: Languages a post can be written in (any of them, whatever the interface speaks).
POST_LANGUAGES = (
    "ar", "bn", "ca", "cs", "da", "de", "el", "en", "eo", "es", "et", "fa", "fi", "fr",
    "ga", "he", "hi", "hu", "id", "it", "ja", "ko", "lt", "lv", "nb", "nl", "pl", "pt",
    "ro", "ru", "sk", "sl", "sr", "sv", "sw", "ta", "th", "tr", "uk", "ur", "vi", "zh",
)  # fmt: skip
#: The compiled catalogues (README, "Translations").
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: Set by speaking(): the language a block writes in, whoever asked.
_SPOKEN: ContextVar[str | None] = ContextVar("flaskr.i18n.spoken", default=None)
#: Accept-Language headers longer than this are negotiated but not remembered.
_REMEMBERED_HEADER = 200


def init_app(app: Flask) -> None:
    """Translate templates and messages into each request's language."""
    check_site_language(app.config["LANGUAGE"])
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["LANGUAGE"]
    Babel(app, locale_selector=_selected)
    from flaskr.i18n import dates, templates

    dates.init_app(app)
    templates.init_app(app)
    # Shared caches between us and the reader must not hand one language to another.
    security.vary_always(app, "Accept-Language")
    app.jinja_env.globals.update(
        languages=LANGUAGES,
        language=current_language,
        post_languages=post_languages,
        text_direction=text_direction,
        foreign_language=foreign_language,
        link_language=link_language,
        text_language=text_language,
    )


def check_site_language(code: str) -> None:
    """Refuse to start with a site language flaskr has no translation for."""
    if code not in LANGUAGES:
        raise ConfigError(f"LANGUAGE must be one of {', '.join(sorted(LANGUAGES))}, not {code!r}.")


def check_language(code: str) -> str:
    """A language code a person chose ('' for "as my browser says"), else ValueError."""
    code = code.strip()
    if code and code not in LANGUAGES:
        raise ValueError(code)
    return code


@cache
def post_languages() -> tuple[tuple[str, str], ...]:
    """(code, name) of every language a post can declare, each named in itself, by code."""
    return tuple(
        (code, Locale.parse(code).get_display_name(code) or code) for code in POST_LANGUAGES
    )


def check_post_language(code: str) -> str | None:
    """The language a post declares (None: the site's), else ValueError."""
    code = code.strip()
    if not code:
        return None
    if code not in POST_LANGUAGES:
        raise ValueError(code)
    return code


@cache
def text_direction(code: str) -> str:
    """'rtl' for a language written right to left (Arabic, Hebrew...), else 'ltr'."""
    try:
        order = Locale.parse(code).character_order
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def foreign_language(post: Mapping[str, Any]) -> str | None:
    """The language a post is written in, if it is not the page's (None if it is)."""
    written = post["language"] or this_app().config["LANGUAGE"]
    return None if written == current_language() else str(written)


def text_language(post: Mapping[str, Any]) -> Markup:
    """The attributes of an element holding a post's own words: lang and dir when the
    post is written in another language than the page's, else nothing."""
    written = foreign_language(post)
    return Markup("") if written is None else _lang_dir(written)


def _lang_dir(written: str) -> Markup:
    return Markup(' lang="%s" dir="%s"') % (written, text_direction(written))


def link_language(post: Mapping[str, Any]) -> Markup:
    """The attributes of a link whose text is a post's title: lang, dir and hreflang when
    the post is written in another language than the page's, else nothing."""
    written = foreign_language(post)
    if written is None:
        return Markup("")
    return _lang_dir(written) + Markup(' hreflang="%s"') % written


def negotiate(accept_language: str, default: str) -> str:
    """The language to answer an Accept-Language header in: its best match, else `default`."""
    if len(accept_language) > _REMEMBERED_HEADER:
        return _best(accept_language, default)
    return _remembered_best(accept_language, default)


def _best(accept_language: str, default: str) -> str:
    if not accept_language:
        return default
    # werkzeug matches "de-AT" to "de" and honours q=0 ("not this one").
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return accepted.best_match(LANGUAGES, default=default) or default


# The same few headers arrive again and again: each is parsed once per process.
_remembered_best = lru_cache(maxsize=512)(_best)


def _selected() -> str:
    """Flask-Babel's choice for this request (once per request; Flask-Babel keeps it)."""
    site = this_app().config["LANGUAGE"]
    if not has_request_context():
        return site  # the CLI, and mail sent outside a request
    user = this_g().get("user")
    chosen_by_user = user.get("language") if user is not None else None
    if chosen_by_user in LANGUAGES:
        return str(chosen_by_user)
    return negotiate(this_request().headers.get("Accept-Language", ""), site)


def current_language() -> str:
    """The code of the language this request is answered in ('en', 'de')."""
    return chosen()[0]


def chosen() -> tuple[str, NullTranslations]:
    """This request's language code and catalogue (the same choice Flask-Babel makes).

    Flask-Babel's first lookup in a request parses a Locale and looks its
    catalogue up by name: about 45 microseconds, a tenth of a cold page. The
    code is chosen once per request here (kept in `g`) and each catalogue is
    loaded once per process.
    """
    spoken = _SPOKEN.get()
    if spoken is not None:
        return spoken, catalogue(spoken)
    # The app context itself rather than has_app_context() and the `g` proxy:
    # templates ask this several times a page, and each proxy lookup costs.
    context = _cv_app.get(None)
    if context is None:
        return "en", catalogue("en")  # no app, no settings: the source language
    state = context.g
    code = state.__dict__.get("_flaskr_language")
    if code is None:
        code = state._flaskr_language = _selected()
    return code, catalogue(code)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ngettext() (the count goes in as `num`), through chosen(): for
    strings on every reader's page, where Flask-Babel's own lookup costs about 15
    microseconds a call."""
    text = chosen()[1].ungettext(singular, plural, num)
    return text % {"num": num, **variables}


@cache
def catalogue(code: str) -> NullTranslations:
    """The compiled messages of a language (English, the source, has none: its own words)."""
    return Translations.load(str(TRANSLATIONS), [code])


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Within the block, write in this language whoever asked (feeds: the site's; mail:
    the recipient's), in templates and in Python alike."""
    token = _SPOKEN.set(code)
    try:
        with force_locale(code):
            yield
    finally:
        _SPOKEN.reset(token)
