"""gettext for templates: `_`, `gettext` and `ngettext`, cheap enough for every page.

Jinja's i18n extension (as Flask-Babel installs it) makes each `_("...")` two
context calls and a catalogue lookup through several context-local objects:
about 30 microseconds, and a list page has 25 of them - more than the rest of
a cold page. Instead, a context processor hands each render functions bound
to the catalogue Flask-Babel chose for this request (one lookup per page,
then about 5 microseconds a string). Macro files rendered through their
module (blog.articles, the pager) see the environment's globals instead:
the same functions, looking the catalogue up at each call.

The semantics are the extension's "newstyle" gettext: the translation is
trusted markup when the template autoescapes, the values put into it are
escaped, and ngettext puts the count in as `num`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.support import NullTranslations
from flask import Flask
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from flaskr.i18n.languages import chosen


def init_app(app: Flask) -> None:
    """Give templates _, gettext and ngettext in the request's language."""
    app.jinja_env.globals.update(_callables(lambda: chosen()[1]))
    app.context_processor(bound_gettext)


def bound_gettext() -> dict[str, Callable[..., Any]]:
    """_, gettext and ngettext for one render, bound to this request's catalogue."""
    translations = chosen()[1]
    return _callables(lambda: translations)


def _callables(catalogue: Callable[[], NullTranslations]) -> dict[str, Callable[..., Any]]:
    @pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
        translations = catalogue()
        if not eval_ctx.autoescape:
            text = translations.ugettext(message)
            return text % variables if variables else text
        markup = _markup(translations, message)
        return markup % variables if variables else markup

    @pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        text = catalogue().ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 - our own catalogue, not user input
        return text % {"num": num, **variables}

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def _markup(translations: NullTranslations, message: str) -> Markup:
    """The translation as markup, made once per catalogue and message (catalogues live
    as long as the process, and hold a few hundred messages)."""
    made: dict[str, Markup] = translations.__dict__.setdefault("_flaskr_markup", {})
    found = made.get(message)
    if found is None:
        found = made[message] = Markup(translations.ugettext(message))  # noqa: S704  # nosec B704 - ours
    return found
