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

Most messages in a template are constant - `_("Search")`, with nothing put
into them - and those need no call at all: each template is compiled once per
language (`LanguageEnvironment` keeps one compiled copy per language), and
while it compiles `ConstantMessages` writes each constant message's
translation into it as text, so a page pays for the messages with values
only. Babel still finds every `_("...")` in the template's source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from babel.support import NullTranslations
from flask import Flask
from flask.templating import Environment
from jinja2 import BaseLoader, Template, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup

from flaskr.escaping import QuickEscapeTemplate
from flaskr.i18n.languages import chosen


def init_app(app: Flask) -> None:
    """Give templates _, gettext and ngettext in the request's language."""
    app.jinja_env.globals.update(_callables(lambda: chosen()[1]))
    app.jinja_env.add_extension(ConstantMessages)
    app.context_processor(bound_gettext)


class LanguageEnvironment(Environment):
    """Flask's template environment, keeping one compiled copy of each template per
    language (set as the app's `jinja_environment` before its first template).

    Jinja keys its cache of compiled templates by (loader, name): the loader
    seen here is a stand-in for the app's, one per language, so each language's
    copy has its own key. Everything else about loading stays Jinja's.

    It also gives templates the environment's globals themselves rather than
    Jinja's ChainMap over them (see make_globals), and escapes their values
    with flaskr.escaping.
    """

    template_class = QuickEscapeTemplate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (language, name) -> compiled template, while templates are not reloaded.
        self._by_language: dict[tuple[str, str], Template] = {}

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        """The template compiled for the language being written in.

        Looked up by (language, name) in a dict of this environment's own while
        templates are not reloaded (TEMPLATES_AUTO_RELOAD off, as in production):
        Jinja's cache is an LRU behind a lock, keyed by a weak reference to the
        loader of this request's language, about 3 microseconds a lookup, and a
        list page makes three (the page, the frame it extends, the article
        macros). Its first load, a reloading environment and a template given
        globals of its own go through Jinja, as before.
        """
        if self.auto_reload or globals or self.cache is None:
            return super()._load_template(name, globals)
        key = (chosen()[0], name)
        found = self._by_language.get(key)
        if found is None:
            found = self._by_language[key] = super()._load_template(name, globals)
        return found

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's own globals for a template that has none of its own.

        Every render copies its template's globals into a new context: from a
        ChainMap that copy looks up each of the 40-odd globals in Python, about
        20 microseconds a page; from a dict it is one C-level copy. flaskr loads
        no template with globals of its own; one that has them gets Jinja's
        ChainMap, so they never leak into the environment.
        """
        if not d:
            return self.globals
        return super().make_globals(d)

    @property
    def loader(self) -> BaseLoader | None:
        """The app's loader, as the stand-in of the language being written in."""
        inner = self.__dict__["_loaders"][None]
        if inner is None:
            return None
        loaders = self.__dict__["_loaders"]
        code = chosen()[0]
        found = loaders.get(code)
        if found is None:
            found = loaders[code] = _LanguageLoader(inner)
        return found

    @loader.setter
    def loader(self, inner: BaseLoader | None) -> None:
        self.__dict__["_loaders"] = {None: inner}


class _LanguageLoader(BaseLoader):
    """The app's template loader under another name (see LanguageEnvironment)."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(
        self, environment: Any, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """The template's source, from the app's loader."""
        return self.inner.get_source(environment, template)

    def list_templates(self) -> list[str]:
        """Every template the app's loader knows."""
        return self.inner.list_templates()

    def load(self, environment: Any, name: str, globals: Any = None) -> Template:
        """Compile the template (in the language being written in)."""
        return self.inner.load(environment, name, globals)


class ConstantMessages(Extension):
    """Writes `_("...")` and `gettext("...")` with nothing put into them as their
    translation into the language the template is being compiled for.

    The tokens `_ ( "text" )` become `( "translation" | safe )`, which Jinja's
    optimizer turns into constant markup: what `_` returns in an autoescaped
    template, and plain text where the template does not autoescape.
    """

    priority = 50  # before other extensions see the calls

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        """The template's tokens, constant messages translated."""
        translations = chosen()[1]
        pending: list[Token] = []
        previous = None
        for token in stream:
            pending.append(token)
            if not _still_a_message(pending, previous):
                previous = pending[-1]
                yield from pending
                pending = []
            elif len(pending) == 4:
                name, _open, text, close = pending
                translated = translations.ugettext(text.value)
                yield Token(_open.lineno, "lparen", "(")
                yield Token(text.lineno, "string", translated)
                yield Token(text.lineno, "pipe", "|")
                yield Token(text.lineno, "name", "safe")
                yield Token(close.lineno, "rparen", ")")
                previous = close
                pending = []
        yield from pending


#: What each token of a constant message is, in order.
_SHAPE = (
    lambda t: t.type == "name" and t.value in ("_", "gettext"),
    lambda t: t.type == "lparen",
    lambda t: t.type == "string",
    lambda t: t.type == "rparen",
)


def _still_a_message(pending: list[Token], previous: Token | None) -> bool:
    """Whether the tokens so far may yet be a constant message call (not `x._(...)`)."""
    if previous is not None and previous.type == "dot" and len(pending) == 1:
        return False
    index = len(pending) - 1
    return _SHAPE[index](pending[index])


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
