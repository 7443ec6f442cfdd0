"""Writing a list of posts as Atom 1.0, RSS 2.0 or JSON Feed 1.1.

Every field gets the escaping its format asks for. Text fields (titles, author
names, tags, summaries) are plain text in all three formats: the XML writer
escapes them once, so a reader shows "<script>" as those eight characters. HTML
goes only where the format says a reader renders HTML: Atom's content
(type="html"), JSON Feed's content_html, and RSS's item description, which is
HTML even when it carries the plain-text summary (so the summary is
HTML-escaped first). RSS titles are plain text too, as the RSS Best Practices
Profile (3.1) says of every RSS element but the item description.

Any character may reach this module from the database (rows written by plain
SQL); the ones XML forbids or discourages (and JSON cannot carry in UTF-8)
become U+FFFD, so every document parses.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from flaskr.fragments import Fragments
from flaskr.validation import replace_control_characters as _text

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_RSS_NS = "http://search.yahoo.com/mrss/"
MIMETYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@dataclass
class Feed:
    """What every format needs to know about a feed besides its entries."""

    title: str
    description: str
    home_url: str
    feed_url: str
    updated: datetime
    language: str = "en"  # the site's: the feed's titles and the posts that name none


@dataclass(frozen=True)
class Picture:
    """A post's picture as feeds name it beside the content (the first it shows)."""

    url: str  # absolute
    type: str  # its MIME type
    alt: str  # the author's description (also kept in the content's alt)


@dataclass
class Entry:
    """One post in a feed."""

    id: str  # unique forever: never the URL, which changes with the title
    url: str
    title: str
    author: str
    published: datetime
    updated: datetime
    content_html: str | None
    summary: str
    tags: list[str]
    language: str | None = None  # the post's own, when it names one other than the site's
    image: Picture | None = None
    #: The entry as each writer wrote it (_written), for an entry kept and written again.
    written: dict[Callable[[Entry], str], str] = field(
        default_factory=dict, compare=False, repr=False
    )


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _rfc822(value: datetime) -> str:
    return format_datetime(value.replace(tzinfo=UTC), usegmt=True)


# The XML is written as text, not built as a tree: ElementTree cost most of a
# feed's time. Escaping is ElementTree's own, so the bytes are the same.


def _x(value: str) -> str:
    """Text content: only characters XML allows, with & < > escaped."""
    return _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    """An attribute value in double quotes, escaped as ElementTree escapes it."""
    value = _x(value).replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _tag(name: str, text: str | None = None, **attrs: str) -> str:
    """<name attr="...">text</name>, or <name attr="..." /> without text (as ElementTree)."""
    opening = name + "".join(f' {key}="{_attr(value)}"' for key, value in attrs.items())
    if not text:
        return f"<{opening} />"
    return f"<{opening}>{_x(text)}</{name}>"


_XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"

#: Entries as written, by writer and every field (the writers are pure functions
#: of them): the same post in the next feed is not escaped again.
_WRITTEN: Fragments[str] = Fragments(8 * 1024 * 1024)


#: The formats whose text an entry carries once written (_written); a JSON Feed is
#: written whole each time.
CARRIED = ("atom", "rss")


def _written(write: Callable[[Entry], str], entry: Entry) -> str:
    """write(entry), kept for the next feed that carries the same entry."""
    # An entry the feeds keep as built (feeds.views._entries) carries its text:
    # nothing changes an entry once built, and the lookup below by every field
    # cost a feed a microsecond and a half an entry.
    text = entry.written.get(write)
    if text is not None:
        return text
    key = (
        write,  # the format
        entry.id,
        entry.url,
        entry.title,
        entry.author,
        entry.published,
        entry.updated,
        entry.content_html,
        entry.summary,
        tuple(entry.tags),
        entry.language,
        entry.image,
    )
    text = entry.written[write] = _kept(_WRITTEN, key, lambda: write(entry))
    return text


def _kept(store: Fragments[str], key: Hashable, make: Callable[[], str]) -> str:
    """The text kept in store under key, else make()'s, kept there."""
    text = store.get(key)
    if text is None:
        text = make()
        store.put(key, text, 2 * len(text))  # the text, and about as much in the key
    return text


#: Documents' heads as written, by writer and every field of the feed: the same feed's
#: next request (nothing new since) writes no head again.
_HEADS: Fragments[str] = Fragments(256 * 1024)


def _head(write: Callable[[Feed], list[str]], feed: Feed) -> str:
    """The document's head: the XML declaration and write(feed), the feed's own
    elements, kept for the next request for the same feed: writing them escaped seven
    elements, a thirtieth of a cold Atom feed's time."""
    key = (
        write,
        feed.title,
        feed.description,
        feed.home_url,
        feed.feed_url,
        feed.updated,
        feed.language,
    )
    return _kept(_HEADS, key, lambda: "".join([_XML_DECLARATION, *write(feed)]))


def _atom_entry(entry: Entry) -> str:
    parts = [
        f'<entry xml:lang="{_attr(entry.language)}">' if entry.language else "<entry>",
        _tag("id", entry.id),
        _tag("title", entry.title),  # type="text", the default
        _tag("link", rel="alternate", href=entry.url, type="text/html"),
        f"<author>{_tag('name', entry.author)}</author>",
        _tag("published", _iso(entry.published)),
        _tag("updated", _iso(entry.updated)),
        *(_tag("category", term=tag) for tag in entry.tags),
        _tag("summary", entry.summary),
    ]
    if entry.image is not None:
        parts.append(_tag("link", rel="enclosure", href=entry.image.url, type=entry.image.type))
    if entry.content_html is not None:
        parts.append(_tag("content", entry.content_html, type="html"))
    parts.append("</entry>")
    return "".join(parts)


def _atom_head(feed: Feed) -> list[str]:
    return [
        f'<feed xmlns="{ATOM_NS}" xml:lang="{_attr(feed.language)}">',
        _tag("id", feed.feed_url),
        _tag("title", feed.title),
        _tag("subtitle", feed.description),
        _tag("updated", _iso(feed.updated)),
        _tag("link", rel="self", href=feed.feed_url, type=MIMETYPES["atom"]),
        _tag("link", rel="alternate", href=feed.home_url, type="text/html"),
        _tag("generator", "flaskr"),
    ]


def atom(feed: Feed, entries: list[Entry]) -> bytes:
    """An Atom 1.0 document (RFC 4287)."""
    parts = [_head(_atom_head, feed)]
    parts += [_written(_atom_entry, entry) for entry in entries]
    parts.append("</feed>")
    return "".join(parts).encode()


def _plain(escaped: str) -> str:
    """Escaped RSS text with the hexadecimal references for & < > that the RSS Best
    Practices Profile asks for (they work in the most aggregators; to XML, the same)."""
    return escaped.replace("&amp;", "&#x26;").replace("&lt;", "&#x3C;").replace("&gt;", "&#x3E;")


def _rss_tag(name: str, text: str) -> str:
    return _plain(_tag(name, text))


def _rss_item(entry: Entry) -> str:
    description = entry.content_html
    if description is None:
        description = html.escape(entry.summary, quote=False)
    return "".join(
        [
            "<item>",
            _rss_tag("title", entry.title),
            _rss_tag("link", entry.url),
            _plain(_tag("guid", entry.id, isPermaLink="false")),
            _rss_tag("pubDate", _rfc822(entry.published)),
            _rss_tag("author", f"noreply@invalid ({entry.author})"),
            *(_rss_tag("category", tag) for tag in entry.tags),
            _rss_tag("description", description),
            _media_content(entry.image) if entry.image else "",
            "</item>",
        ]
    )


def _media_content(image: Picture) -> str:
    # Media RSS: RSS's own <enclosure> must state the file's length in bytes.
    description = _tag("media:description", image.alt, type="plain") if image.alt else ""
    attrs = f'url="{_attr(image.url)}" type="{_attr(image.type)}" medium="image"'
    return _plain(f"<media:content {attrs}>{description}</media:content>")


def _rss_head(feed: Feed) -> list[str]:
    self_link = f'<atom:link rel="self" href="{_attr(feed.feed_url)}" type="{MIMETYPES["rss"]}" />'
    return [
        f'<rss xmlns:atom="{ATOM_NS}" xmlns:media="{MEDIA_RSS_NS}" version="2.0"><channel>',
        _rss_tag("title", feed.title),
        _rss_tag("link", feed.home_url),
        _rss_tag("description", feed.description),
        _rss_tag("language", feed.language),
        _rss_tag("lastBuildDate", _rfc822(feed.updated)),
        _rss_tag("generator", "flaskr"),
        _plain(self_link),
    ]


def rss(feed: Feed, entries: list[Entry]) -> bytes:
    """An RSS 2.0 document."""
    parts = [_head(_rss_head, feed)]
    parts += [_written(_rss_item, entry) for entry in entries]
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _json_safe(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def json_feed(feed: Feed, entries: list[Entry]) -> bytes:
    """A JSON Feed 1.1 document."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {
            "id": entry.id,
            "url": entry.url,
            "title": entry.title,
            "summary": entry.summary,
            "date_published": _iso(entry.published),
            "date_modified": _iso(entry.updated),
            "authors": [{"name": entry.author}],
            "tags": entry.tags,
        }
        if entry.language:
            item["language"] = entry.language
        if entry.image is not None:
            item["image"] = entry.image.url
        if entry.content_html is not None:
            item["content_html"] = entry.content_html
        else:
            item["content_text"] = entry.summary
        items.append(item)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "description": feed.description,
        "home_page_url": feed.home_url,
        "feed_url": feed.feed_url,
        "language": feed.language,
        "items": items,
    }
    return json.dumps(_json_safe(document), ensure_ascii=False).encode()


WRITERS = {"atom": atom, "rss": rss, "json": json_feed}
