"""sitemap.xml (an index of post, tag and author sitemaps) and robots.txt."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort, url_for

from flaskr.blog.slugs import post_slug
from flaskr.policy import public
from flaskr.sitemap import queries

bp = Blueprint("sitemap", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: Posts per sitemap file (the protocol allows 50,000).
CHUNK = 10_000
#: Tag and author entries in the pages sitemap, each.
PAGES_MAX = 25_000


def _xml(root: ET.Element) -> Response:
    ET.register_namespace("", SITEMAP_NS)
    return Response(
        ET.tostring(root, encoding="utf-8", xml_declaration=True), mimetype="application/xml"
    )


def _url(parent: ET.Element, tag_name: str, loc: str, lastmod: datetime | None = None) -> None:
    element = ET.SubElement(parent, f"{{{SITEMAP_NS}}}{tag_name}")
    ET.SubElement(element, f"{{{SITEMAP_NS}}}loc").text = loc
    if lastmod is not None:
        ET.SubElement(element, f"{{{SITEMAP_NS}}}lastmod").text = lastmod.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )


@bp.route("/sitemap.xml")
@public
def index() -> Response:
    """The list of sitemap files: posts in chunks by id, then tags and authors."""
    last_id = queries.newest_public_post_id()
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for chunk in range(last_id // CHUNK + 1):
        _url(root, "sitemap", url_for("sitemap.posts", chunk=chunk, _external=True))
    _url(root, "sitemap", url_for("sitemap.pages", _external=True))
    return _xml(root)


@bp.route("/sitemap/posts-<int:chunk>.xml")
@public
def posts(chunk: int) -> Response:
    """Published posts with ids in one chunk."""
    if chunk > 100_000:
        abort(404)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for row in queries.list_public_posts_between(chunk * CHUNK, (chunk + 1) * CHUNK):
        loc = url_for("blog.detail", post_id=row["id"], slug=post_slug(row), _external=True)
        _url(root, "url", loc, row["updated"] or row["published_at"])
    return _xml(root)


@bp.route("/sitemap/pages.xml")
@public
def pages() -> Response:
    """The front page, tag pages and author profiles, each with the time of its newest post."""
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    _url(root, "url", url_for("index", _external=True))
    for row in queries.list_tags_with_newest_post(PAGES_MAX):
        loc = url_for("tags.tag", name=row["name"], _external=True)
        _url(root, "url", loc, row["lastmod"])
    for row in queries.list_authors_with_newest_post(PAGES_MAX):
        loc = url_for("users.profile", username=row["username"], _external=True)
        _url(root, "url", loc, row["lastmod"])
    return _xml(root)


@bp.route("/robots.txt")
@public
def robots() -> Response:
    """Let crawlers in, keep them out of account pages and search, point them at the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /auth/",
        "Disallow: /me/",
        "Disallow: /search",
        f"Sitemap: {url_for('sitemap.index', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
