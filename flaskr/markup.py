"""Markdown -> sanitized HTML, and the |markdown template filter."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

#: Bump when the output of render() changes; cached HTML older than this is rebuilt.
RENDER_VERSION = 2
SUMMARY_MAX = 280

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "section", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang.strip()) if lang.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes and wraps it itself
    return highlight(code, lexer, _FORMATTER)


_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
)


def render(source: str) -> str:
    """Turn a post's Markdown into HTML that is safe to put in any page."""
    html = _md.render(source or "")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )


def summarize(source: str) -> str:
    """The opening words of a post as plain text, for feeds, lists and meta descriptions."""
    return summarize_html(_md.render(source or ""))


def summarize_html(rendered: str) -> str:
    """summarize() for a body already rendered to HTML."""
    text = html.unescape(nh3.clean(rendered, tags=set()))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[:SUMMARY_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(".,;:") + "…"


def markdown_filter(source: str | None) -> Markup:
    """Template filter: render Markdown text the user wrote."""
    return Markup(render(source or ""))  # noqa: S704 - render() sanitizes with nh3


def highlight_css() -> str:
    """The stylesheet for highlighted code (class-based, so the CSP holds)."""
    # No ancestor selector: rendered code carries hl-* classes but no wrapper to scope by.
    return _FORMATTER.get_style_defs("")
