"""The translation catalogues: every string marked, the template current, German complete.

The README's "Translations" section is the workflow these tests hold to:
`pybabel extract` into flaskr/translations/messages.pot, `pybabel update`,
translate, `pybabel compile`. A test here fails when a template or a message
shown to people is not marked for translation, when the .pot is out of date,
when German has an untranslated, fuzzy or broken entry, or when the compiled
.mo shipped in the wheel is not the .po.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flaskr"
TEMPLATES = PACKAGE / "templates"
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = ["de"]

# --- templates: no text outside _() -------------------------------------------------

#: Attributes people read (or hear from a screen reader).
HUMAN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description"}
#: data-* attributes that hold addresses, selectors or numbers, never words.
MACHINE_DATA = {"data-preview", "data-autosave", "data-autosave-seconds"}
#: Names, not words: the same in every language.
PROPER_NAMES = {"Atom", "RSS", "JSON Feed", "(Atom)", "(RSS)", "(JSON Feed)", "ID"}
#: What Jinja code (an expression, a tag) becomes when the page's text is checked.
CODE = "\x00"
_WORD = re.compile(r"[^\W\d_]{2,}")


class _Text(HTMLParser):
    """Collect the words a reader would see in an HTML page's text and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_code = 0

    def _check(self, text: str) -> None:
        text = " ".join(part.strip() for part in text.split(CODE) if part.strip())
        if text and _WORD.search(text) and text not in PROPER_NAMES:
            self.found.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "code":
            self._in_code += 1
        for name, value in attrs:
            human = name in HUMAN_ATTRIBUTES or (
                name.startswith("data-") and name not in MACHINE_DATA
            )
            if human and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_code:  # Markdown samples in the editor's help are code, not prose
            self._check(data)


def _string_literals_outside_gettext(env: Environment, source: str) -> list[str]:
    """Strings in Jinja code that read like prose but are not gettext's argument."""
    found = []
    tokens = [(kind, value) for _line, kind, value in env.lex(source) if kind != "whitespace"]
    for index, (kind, value) in enumerate(tokens):
        if kind != "string":
            continue
        value = value[1:-1]  # the lexer keeps the quotes
        # A capitalised word is prose ('Archive ', 'Light'); an endpoint, a key,
        # a class name or a date format is not.
        prose = re.search(r"\b[A-Z][a-z]+", value) and '="' not in value
        before = [v for _k, v in tokens[max(0, index - 4) : index]]
        marked = "(" in before and any(
            name in before for name in ("_", "gettext", "ngettext", "pgettext")
        )
        if prose and not marked:
            found.append(value)
    return found


def unmarked_strings(env: Environment, source: str) -> list[str]:
    """Text a reader would see in a template that does not go through gettext."""
    text = "".join(value if kind == "data" else CODE for _line, kind, value in env.lex(source))
    parser = _Text()
    parser.feed(text)
    parser.close()
    return parser.found + _string_literals_outside_gettext(env, source)


@pytest.fixture(scope="module")
def jinja(tmp_path_factory) -> Environment:
    from flaskr import create_app

    path = tmp_path_factory.mktemp("i18n") / "x.sqlite"
    return create_app({"TESTING": True, "DATABASE": str(path)}).jinja_env


@pytest.mark.parametrize(
    "template",
    # Pages, and mail (its .txt parts too).
    sorted(
        str(p.relative_to(TEMPLATES))
        for p in (*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt"))
    ),
)
def test_every_string_in_every_template_is_marked_for_translation(jinja, template):
    assert unmarked_strings(jinja, (TEMPLATES / template).read_text("utf8")) == []


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("<p>Hello there</p>", ["Hello there"]),
        ('<input placeholder="Search">', ["Search"]),
        ('<nav aria-label="Pages">', ["Pages"]),
        ('<button data-confirm="Really?">', ["Really?"]),
        ("<p>{{ name }} wrote</p>", ["wrote"]),
        ("{{ 'Archive ' ~ year }}", ["Archive "]),
        ("{% for v, label in (('light', 'Light'),) %}{% endfor %}", ["Light"]),
        ("<p>{{ _('Hello there') }}</p>", []),
        ("<input placeholder=\"{{ _('Search') }}\">", []),
        ("<p>{{ ngettext('%(num)d post', '%(num)d posts', n) }}</p>", []),
        ("<code>**bold**</code> <p>{{ x }} &middot; {{ y }}</p>", []),
        ('<a href="{{ link(\'blog.index\') }}" data-preview="#x">Atom</a>', []),
    ],
)
def test_the_template_check_finds_unmarked_text(jinja, snippet, found):
    assert unmarked_strings(jinja, snippet) == found


# --- Python: messages shown to people go through gettext ----------------------------------

#: Calls whose string arguments a person reads.
SHOWN = {"flash", "ValidationError", "abort", "TooComplexError"}


def unmarked_messages(source: str) -> list[int]:
    """Lines where a string literal is handed straight to flash(), ValidationError() or abort()."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in SHOWN:
            continue
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg == "description")]
        if any(_literal_text(argument) for argument in arguments):
            lines.append(node.lineno)
    return lines


def _literal_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)
    )


@pytest.mark.parametrize(
    "module", sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))
)
def test_every_message_in_the_code_is_marked_for_translation(module):
    assert unmarked_messages((PACKAGE / module).read_text("utf8")) == []


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("flash('Saved.')", [1]),
        ("flash(f'Saved {n}.')", [1]),
        ("raise ValidationError('Bad.')", [1]),
        ("abort(400, 'Bad address.')", [1]),
        ("abort(400, description='Bad.')", [1]),
        ("flash(gettext('Saved.'))", []),
        ("abort(404)", []),
        ("flash(str(error))", []),
    ],
)
def test_the_code_check_finds_unmarked_messages(source, lines):
    assert unmarked_messages(source) == lines


# --- the catalogues ---------------------------------------------------------------------------


def _extract(tmp_path: Path) -> Path:
    """Run the README's extract command; the .pot it writes."""
    out = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    return out


def _ids(path: Path, locale: str | None = None) -> set:
    with path.open("rb") as f:
        return {message.id for message in read_po(f, locale=locale) if message.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    return _ids(_extract(tmp_path_factory.mktemp("pot")))


def test_the_catalogue_template_holds_every_marked_string(extracted):
    # Fails after a string is added or changed without `pybabel extract` (README).
    assert extracted == _ids(TRANSLATIONS / "messages.pot")


def catalogue_faults(catalog, extracted: set) -> dict:  # noqa: ANN001
    """What is wrong with a language's catalogue: each kind of fault and its messages."""
    messages = {m.id: m for m in catalog if m.id}
    return {
        "missing or extra (run `pybabel update`, README Translations)": sorted(
            map(str, set(messages) ^ extracted)
        ),
        "untranslated": [
            m.id
            for m in messages.values()
            if not (all(m.string) if isinstance(m.string, tuple) else m.string)
        ],
        "fuzzy": [m.id for m in messages.values() if m.fuzzy],
        "obsolete": list(catalog.obsolete),
        # Placeholders (%(name)s) the same as the English: babel's own checkers.
        "placeholders": [m.id for m, _errors in catalog.check()],
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(extracted, language):
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    assert {
        kind: found for kind, found in catalogue_faults(catalog, extracted).items() if found
    } == {}


def test_the_catalogue_check_finds_each_kind_of_fault():
    po = b"""
msgid "Done"
msgstr ""

#, fuzzy
msgid "Guessed"
msgstr "Geraten"

msgid "Hello %(name)s"
msgstr "Hallo %(nom)s"

msgid "Fine"
msgstr "Gut"

#~ msgid "Gone"
#~ msgstr "Weg"
"""
    catalog = read_po(io.BytesIO(po), locale="de")
    extracted = {"Done", "Guessed", "Hello %(name)s", "Fine", "New"}
    assert catalogue_faults(catalog, extracted) == {
        "missing or extra (run `pybabel update`, README Translations)": ["New"],
        "untranslated": ["Done"],
        "fuzzy": ["Guessed"],
        "obsolete": ["Gone"],
        "placeholders": ["Hello %(name)s"],
    }


def stale_messages(compiled: gettext.GNUTranslations, catalog) -> list:  # noqa: ANN001
    """Messages whose compiled translation is not the catalogue's."""
    stale = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            got = (compiled.ngettext(singular, plural, 1), compiled.ngettext(singular, plural, 5))
            if got != tuple(message.string):
                stale.append(message.id)
        elif compiled.gettext(message.id) != message.string:
            stale.append(message.id)
    return stale


def _po(language: str):  # noqa: ANN202 - a babel Catalog
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_translated_one(language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    assert stale_messages(compiled, _po(language)) == [], "run `pybabel compile` (README)"


def test_a_stale_compiled_catalogue_is_noticed(tmp_path):
    from babel.messages.mofile import write_mo

    catalog = _po("de")
    older = _po("de")
    older.delete("Title")
    older["Tags"].string = "Etiketten"
    with (tmp_path / "messages.mo").open("wb") as f:
        write_mo(f, older)
    with (tmp_path / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    assert sorted(stale_messages(compiled, catalog)) == ["Tags", "Title"]
