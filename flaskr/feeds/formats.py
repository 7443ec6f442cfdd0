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
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from flaskr.validation import replace_control_characters as _text

ATOM_NS = "http://www.w3.org/2005/Atom"
MIMETYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
#: The RSS Best Practices Profile asks for hexadecimal references to "&", "<" and
#: ">" in plain text (they work in the most aggregators); to XML they are the same.
_RSS_REFERENCES = ((b"&amp;", b"&#x26;"), (b"&lt;", b"&#x3C;"), (b"&gt;", b"&#x3E;"))


@dataclass
class Feed:
    """What every format needs to know about a feed besides its entries."""

    title: str
    description: str
    home_url: str
    feed_url: str
    updated: datetime


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


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _rfc822(value: datetime) -> str:
    return format_datetime(value.replace(tzinfo=UTC), usegmt=True)


def _element(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str):
    """An XML element whose text and attribute values hold only characters XML allows."""
    attrs = {name: _text(value) for name, value in attrs.items()}
    element = ET.Element(tag, attrs) if parent is None else ET.SubElement(parent, tag, attrs)
    element.text = None if text is None else _text(text)
    return element


def atom(feed: Feed, entries: list[Entry]) -> bytes:
    """An Atom 1.0 document (RFC 4287)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        return _element(parent, f"{{{ATOM_NS}}}{tag}", text, **attrs)

    root = _element(None, f"{{{ATOM_NS}}}feed")
    sub(root, "id", feed.feed_url)
    sub(root, "title", feed.title)
    sub(root, "subtitle", feed.description)
    sub(root, "updated", _iso(feed.updated))
    sub(root, "link", rel="self", href=feed.feed_url, type=MIMETYPES["atom"])
    sub(root, "link", rel="alternate", href=feed.home_url, type="text/html")
    sub(root, "generator", "flaskr")
    for entry in entries:
        item = sub(root, "entry")
        sub(item, "id", entry.id)
        sub(item, "title", entry.title)  # type="text", the default
        sub(item, "link", rel="alternate", href=entry.url, type="text/html")
        sub(sub(item, "author"), "name", entry.author)
        sub(item, "published", _iso(entry.published))
        sub(item, "updated", _iso(entry.updated))
        for tag in entry.tags:
            sub(item, "category", term=tag)
        sub(item, "summary", entry.summary)
        if entry.content_html is not None:
            sub(item, "content", entry.content_html, type="html")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def rss(feed: Feed, entries: list[Entry]) -> bytes:
    """An RSS 2.0 document."""
    ET.register_namespace("atom", ATOM_NS)
    root = _element(None, "rss", version="2.0")
    channel = _element(root, "channel")
    _element(channel, "title", feed.title)
    _element(channel, "link", feed.home_url)
    _element(channel, "description", feed.description)
    _element(channel, "lastBuildDate", _rfc822(feed.updated))
    _element(channel, "generator", "flaskr")
    _element(channel, f"{{{ATOM_NS}}}link", rel="self", href=feed.feed_url, type=MIMETYPES["rss"])
    for entry in entries:
        item = _element(channel, "item")
        _element(item, "title", entry.title)
        _element(item, "link", entry.url)
        _element(item, "guid", entry.id, isPermaLink="false")
        _element(item, "pubDate", _rfc822(entry.published))
        _element(item, "author", f"noreply@invalid ({entry.author})")
        for tag in entry.tags:
            _element(item, "category", tag)
        description = entry.content_html
        if description is None:
            description = html.escape(entry.summary, quote=False)
        _element(item, "description", description)
    document = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    for named, numeric in _RSS_REFERENCES:
        # The serializer writes "&" only to start one of its own escapes.
        document = document.replace(named, numeric)
    return document


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
        "items": items,
    }
    return json.dumps(_json_safe(document), ensure_ascii=False).encode()


WRITERS = {"atom": atom, "rss": rss, "json": json_feed}
