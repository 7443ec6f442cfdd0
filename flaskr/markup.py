"""Markdown -> sanitized HTML, and the |markdown template filter."""

from __future__ import annotations

import contextvars
import hashlib
import html
import re
from collections.abc import MutableMapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import nh3
from flask import current_app, has_app_context, has_request_context, request
from flask_babel import gettext
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from flaskr import palettes
from flaskr.validation import ValidationError

#: Bump when the output of render() changes; cached HTML older than this is rebuilt.
RENDER_VERSION = 8
SUMMARY_MAX = 280
#: The most parsing steps one text may take: roughly its Markdown elements and
#: lines. The parser's time grows with these, not with length: 100,000 characters
#: of prose take ~5,000 steps and 0.1 s, but `"![" * 50000` took 195,000 steps and
#: 2-4 s. A block step (a line, a list item) costs about three inline steps.
#: At this budget the worst inputs we know of are refused within about 0.4 s.
RENDER_BUDGET = 20_000
BLOCK_STEP_COST = 3
#: Characters of code one text may have highlighted (~0.6 s for 100,000); code
#: past this is shown plain, still escaped.
HIGHLIGHT_BUDGET = 20_000

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")
_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "section",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "li": {"id"},
    "img": {"src", "alt", "title", "srcset", "sizes", "width", "height", "loading", "decoding"},
    "code": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "th": {"class"},
    "td": {"class"},
    "ol": {"start"},
}


#: Characters of code the text being rendered may still have highlighted.
_highlight_left: contextvars.ContextVar[int] = contextvars.ContextVar("highlight_left", default=0)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    left = _highlight_left.get()
    if len(code) > left:
        return ""  # markdown-it escapes and wraps it itself
    _highlight_left.set(left - len(code))
    try:
        lexer = get_lexer_by_name(lang.strip()) if lang.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes and wraps it itself
    return highlight(code, lexer, _FORMATTER)


def _align_with_classes(state: StateCore) -> None:
    # Table cells say text-align in a style attribute, which the CSP forbids
    # (and align= is obsolete HTML): a class of our stylesheet says it instead.
    for token in state.tokens:
        style = token.attrGet("style") if token.type in ("th_open", "td_open") else None
        if isinstance(style, str) and style.startswith("text-align:"):
            del token.attrs["style"]
            token.attrSet("class", "align-" + style.removeprefix("text-align:"))


#: The site's own addresses an image may load: files, never actions such as
#: /auth/logout (a GET there from an <img> would act for every reader).
#: Path segments cannot start with "." or hold "%" or "\\", so none can climb out.
_MEDIA_PATH = re.compile(r"/(?:static|media)(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+")


def _is_own_host(host: str, own_hosts: frozenset[str]) -> bool:
    # TRUSTED_HOSTS may name ".example.org" for the domain and every subdomain.
    return any(
        host == own or (own.startswith(".") and (host == own[1:] or host.endswith(own)))
        for own in own_hosts
    )


def _pictures(state: StateCore) -> None:
    # Pictures the site keeps (/media/KEY) get their sizes and srcset; another site's
    # picture becomes a link saying so (the CSP would block it: a broken image); one
    # whose source is this site's own address that is not a file becomes its alt text.
    own_hosts = state.env.get("ownHosts", frozenset())
    pictures = state.env.get("pictures")
    seen = state.env.get("images")  # images(): every image, as the parser read it
    first = True
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        in_link = 0
        for child in token.children:
            in_link += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            if child.type != "image":
                children.append(child)
                continue
            src = str(child.attrGet("src") or "")
            kind = _image_kind(src, own_hosts)
            if seen is not None:
                seen.append(Image(src, _plain_text(child.children or []), kind))
            if kind == "foreign":
                # Inside a link (a badge), no second link: a link in a link is no HTML.
                children.append(_foreign_picture(src, child.content, linked=in_link == 0))
            elif kind == "own-action":
                children.extend(child.children or ())
            else:
                if pictures is not None and (found := pictures(src)) is not None:
                    for name, value in found.items():
                        child.attrSet(name, value)
                    child.attrSet("decoding", "async")
                    if not first:  # the first may be above the fold: loaded at once
                        child.attrSet("loading", "lazy")
                first = False
                children.append(child)
        token.children = children


def _image_kind(src: str, own_hosts: frozenset[str]) -> str:
    """'foreign' (another site's), 'own-file' (this site's media or static) or 'own-action'."""
    try:
        parts = urlsplit(src.strip())
        host = parts.hostname
    except ValueError:
        return "own-action"
    if parts.netloc and host and not _is_own_host(host, own_hosts):
        return "foreign"
    if not parts.query and _MEDIA_PATH.fullmatch(parts.path) is not None:
        return "own-file"
    return "own-action"


def _foreign_picture(src: str, alt: str, *, linked: bool) -> Token:
    # Shown in the post's text instead of an image the page may not load.
    placeholder = Token("html_inline", "", 0)
    label = gettext("Picture from another site, not shown:")
    named = html.escape(alt or src)
    shown = f'<a href="{html.escape(src)}">{named}</a>' if linked else named
    placeholder.content = f'<span class="foreign-picture">{html.escape(label)} {shown}</span>'
    return placeholder


def _plain_text(tokens: list[Token]) -> str:
    """The words of inline tokens (an image's alt), without their formatting."""
    return "".join(
        _plain_text(token.children or []) if token.type == "image" else token.content
        for token in tokens
        if token.type in ("text", "code_inline", "image")
    )


class Image(NamedTuple):
    """An image in Markdown, as the parser read it (escapes and entities resolved)."""

    src: str
    alt: str
    #: 'foreign' (another site's), 'own-file' (this site's media or static), 'own-action'.
    kind: str


def images(source: str) -> list[Image]:
    """Every image the Markdown shows, in order: read by the parser that renders it, so
    `\\-` and `&#46;` count as they will on the page. TooComplexError past the budget."""
    found: list[Image] = []
    env = {"docId": "", "ownHosts": _own_hosts(), "pictures": None, "images": found}
    _md.parse(source or "", env)
    return found


def _own_hosts() -> frozenset[str]:
    """The host names this site answers to, as far as the app and request tell."""
    hosts: set[str] = set()
    if has_app_context():
        config = current_app.config
        hosts.update(str(host).lower() for host in config.get("TRUSTED_HOSTS") or ())
        if config.get("SERVER_NAME"):
            hosts.add(urlsplit("//" + config["SERVER_NAME"]).hostname or "")
    if has_request_context():
        hosts.add(urlsplit("//" + request.host).hostname or "")
    hosts.discard("")
    return frozenset(hosts)


class TooComplexError(ValidationError):
    """Markdown with more elements than RENDER_BUDGET allows."""


def _spend(env: MutableMapping[str, Any], cost: int) -> None:
    env["steps"] = steps = env.get("steps", 0) + cost
    if steps > RENDER_BUDGET:
        raise TooComplexError(
            gettext(
                "The text has too much formatting to show (links, brackets, emphasis, list "
                "items or lines). Shorten it, or put long runs of symbols in a code block."
            )
        )


def _count_inline_step(state: StateInline, silent: bool) -> bool:
    _spend(state.env, 1)
    return False  # counted, not consumed: the real rules run next


def _count_block_step(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    _spend(state.env, BLOCK_STEP_COST)
    return False


_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
)
_md.core.ruler.push("align_with_classes", _align_with_classes)
_md.core.ruler.push("pictures", _pictures)
# First in each chain, so every step of the parser is paid for (see RENDER_BUDGET).
_md.inline.ruler.before("text", "budget", _count_inline_step)
_md.block.ruler.before("table", "budget", _count_block_step)

# Comments: a smaller Markdown, with no headings, pictures, tables or footnotes
# (what a stranger writes under a post should not look like the post), and the
# same budget. Images and headings are written as the text they were.
_comment_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .disable(["heading", "lheading", "image"])
    .enable(["strikethrough"])
)
_comment_md.inline.ruler.before("text", "budget", _count_inline_step)
_comment_md.block.ruler.before("code", "budget", _count_block_step)
_COMMENT_TAGS = _TAGS - {
    "h1", "h2", "h3", "h4", "h5", "h6", "img", "section", "span", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr",
}  # fmt: skip
_COMMENT_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def render_comment(source: str) -> str:
    """Turn a comment's Markdown into safe HTML: links, emphasis, lists, quotes and code.

    Raises TooComplexError (a ValidationError) past RENDER_BUDGET.
    """
    rendered = _comment_md.render(source or "", {})
    sanitized = nh3.clean(
        rendered,
        tags=_COMMENT_TAGS,
        attributes=_COMMENT_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )
    return _scrollable_by_keyboard(sanitized)


#: The only ids rendered HTML may carry: footnotes and their back-links, named
#: per document so two posts on one page do not share them (see render()).
_FOOTNOTE_ID = re.compile(r"fn(ref)?-[0-9a-f]{12}-[0-9]+(:[0-9]+)?")


#: The only classes a table cell may carry: its column's alignment.
_CELL_CLASSES = frozenset({"align-left", "align-center", "align-right"})


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id" and not _FOOTNOTE_ID.fullmatch(value):
        return None
    if tag in ("th", "td") and attribute == "class" and value not in _CELL_CLASSES:
        return None
    return value


def render(source: str) -> str:
    """Turn a post's Markdown into HTML that is safe to put in any page.

    Raises TooComplexError (a ValidationError) past RENDER_BUDGET.
    """
    source = source or ""
    doc_id = hashlib.sha256(source.encode()).hexdigest()[:12]
    budget = _highlight_left.set(HIGHLIGHT_BUDGET)
    pictures = current_app.extensions.get("flaskr.pictures") if has_app_context() else None
    env = {"docId": doc_id, "ownHosts": _own_hosts(), "pictures": pictures}
    try:
        tokens = _md.parse(source, env)
        # A paragraph that is only <!--more--> ends the excerpt lists show: each
        # side is rendered and sanitized whole, and MORE (a comment, which
        # sanitizing would drop and Markdown never makes) marks the place.
        cut = _more_marker(tokens)
        parts = [tokens] if cut is None else [tokens[:cut], tokens[cut + 3 :]]
        rendered = [_md.renderer.render(part, _md.options, env) for part in parts]
    finally:
        _highlight_left.reset(budget)
    return MORE.join(_scrollable_by_keyboard(_sanitized(part)) for part in rendered)


def _scrollable_by_keyboard(sanitized: str) -> str:
    # A code block or a wide table scrolls sideways in its own box; keyboard users
    # can scroll it only if it can take focus. After sanitizing, "<pre>" and
    # "<table>" are only ever tags (text saying them is escaped), and the attribute
    # is ours, not the author's.
    return sanitized.replace("<pre>", '<pre tabindex="0">').replace(
        "<table>", '<table tabindex="0">'
    )


#: Where a post's excerpt ends in its rendered HTML (the author wrote <!--more-->).
MORE = "<!--more-->"
_MORE_SOURCE = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)


def _more_marker(tokens: list[Any]) -> int | None:
    """The index of the first top-level paragraph that says only <!--more-->, if any."""
    for index, token in enumerate(tokens[:-2]):
        if (
            token.type == "paragraph_open"
            and token.level == 0
            and tokens[index + 1].type == "inline"
            and _MORE_SOURCE.fullmatch(tokens[index + 1].content.strip())
        ):
            return index
    return None


def _sanitized(rendered: str) -> str:
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )


def render_stored(source: str) -> str:
    """render() for text already saved: past the budget, its paragraphs as plain text."""
    try:
        return render(source)
    except TooComplexError:
        paragraphs = re.split(r"\n\s*\n", (source or "").strip())
        return "".join(f"<p>{html.escape(text)}</p>\n" for text in paragraphs if text)


def summarize(source: str) -> str:
    """The opening words of a post as plain text, for feeds, lists and meta descriptions."""
    return summarize_html(render_stored(source))


_FOREIGN_PICTURE = re.compile(r'<span class="foreign-picture">.*?</span>', re.S)


def summarize_html(rendered: str) -> str:
    """summarize() for a body already rendered to HTML."""
    # Another site's picture is a link only the page needs, not words of the post.
    rendered = _FOREIGN_PICTURE.sub("", rendered)
    text = html.unescape(nh3.clean(rendered, tags=set()))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[:SUMMARY_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(".,;:") + "…"


#: A picture the renderer made from /media/KEY (only those get a width and height;
#: attributes in the renderer's order). Its src is a path, or the object store's URL.
_OWN_PICTURE = re.compile(
    r'<img src="(?P<src>[^"]+)" alt="(?P<alt>[^"]*)"[^>]*? width="(?P<width>[0-9]+)"'
    r' height="(?P<height>[0-9]+)"'
)
#: Addresses of the site's own files in rendered HTML: src="/...", srcset entries.
_OWN_FILE_URL = re.compile(r'((?:src|srcset)="|\d+w, )(/(?:media|static)/)')


def first_picture(rendered: str) -> dict[str, str] | None:
    """The first uploaded picture in rendered HTML (src, alt, width, height), for
    og:image and feeds; None when the text shows none."""
    # Most posts show no picture: a substring test, not a regex walk, says so.
    found = _OWN_PICTURE.search(rendered) if "<img " in rendered else None
    if found is None:
        return None
    return {
        "src": found["src"],
        "alt": html.unescape(found["alt"]),
        "width": found["width"],
        "height": found["height"],
    }


def picture_html(source: str, *, lazy: bool) -> Markup:
    """The <img> a picture's Markdown (a post's cover) renders to; empty if it renders
    none. `lazy`: loaded only as it nears the screen (lists; not the top of a page)."""
    found = re.search(r"<img [^>]*>", render_stored(source))
    if found is None:
        return Markup("")
    image = found[0]
    if lazy and " loading=" not in image:
        image = image[:-1] + ' loading="lazy">'
    return Markup(image)  # noqa: S704 - from render(), which sanitizes  # nosec B704


def absolute_file_urls(rendered: str, origin: str) -> str:
    """Rendered HTML with the site's own picture addresses made absolute (for feeds,
    which readers show away from the site)."""
    if "<img " not in rendered:
        return rendered  # every feed asks this of each entry; most hold no picture
    return _OWN_FILE_URL.sub(lambda m: m[1] + origin + m[2], rendered)


def markdown_filter(source: str | None) -> Markup:
    """Template filter: render Markdown text the user wrote."""
    # render_stored() sanitizes with nh3, or escapes.
    return Markup(render_stored(source or ""))  # noqa: S704  # nosec B704


def highlight_css() -> str:
    """The stylesheet for highlighted code, one readable palette per theme (palettes.py)."""
    return palettes.highlight_css()
