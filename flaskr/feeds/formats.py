"""Writing a list of posts as Atom 1.0, RSS 2.0 or JSON Feed 1.1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
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


@dataclass
class Entry:
    """One post in a feed."""

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


def atom(feed: Feed, entries: list[Entry]) -> bytes:
    """An Atom 1.0 document (RFC 4287)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        element.text = text
        return element

    root = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(root, "id", feed.feed_url)
    sub(root, "title", feed.title)
    sub(root, "subtitle", feed.description)
    sub(root, "updated", _iso(feed.updated))
    sub(root, "link", rel="self", href=feed.feed_url, type=MIMETYPES["atom"])
    sub(root, "link", rel="alternate", href=feed.home_url, type="text/html")
    sub(root, "generator", "flaskr")
    for entry in entries:
        item = sub(root, "entry")
        sub(item, "id", entry.url)
        sub(item, "title", entry.title)
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
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    for tag, text in (
        ("title", feed.title),
        ("link", feed.home_url),
        ("description", feed.description),
        ("lastBuildDate", format_datetime(feed.updated.replace(tzinfo=UTC), usegmt=True)),
        ("generator", "flaskr"),
    ):
        ET.SubElement(channel, tag).text = text
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        {"rel": "self", "href": feed.feed_url, "type": MIMETYPES["rss"]},
    )
    for entry in entries:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = entry.title
        ET.SubElement(item, "link").text = entry.url
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = entry.url
        ET.SubElement(item, "pubDate").text = format_datetime(
            entry.published.replace(tzinfo=UTC), usegmt=True
        )
        ET.SubElement(item, "author").text = f"noreply@invalid ({entry.author})"
        for tag in entry.tags:
            ET.SubElement(item, "category").text = tag
        ET.SubElement(item, "description").text = entry.content_html or entry.summary
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def json_feed(feed: Feed, entries: list[Entry]) -> bytes:
    """A JSON Feed 1.1 document."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {
            "id": entry.url,
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
    return json.dumps(document, ensure_ascii=False).encode()


WRITERS = {"atom": atom, "rss": rss, "json": json_feed}
