"""sitemap.xml (an index of post, tag and author sitemaps) and robots.txt."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import Response, abort, url_for

from flaskr.auth.tables import user
from flaskr.blog.queries import visible
from flaskr.blog.slugs import slugify
from flaskr.blog.tables import post
from flaskr.db import connection
from flaskr.feeds.views import bp
from flaskr.tags.tables import post_tag, tag

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: Posts per sitemap file (the protocol allows 50,000).
CHUNK = 10_000


def _xml(root: ET.Element) -> Response:
    ET.register_namespace("", SITEMAP_NS)
    return Response(
        ET.tostring(root, encoding="utf-8", xml_declaration=True), mimetype="application/xml"
    )


def _url(parent: ET.Element, tag_name: str, loc: str, lastmod=None) -> None:
    element = ET.SubElement(parent, f"{{{SITEMAP_NS}}}{tag_name}")
    ET.SubElement(element, f"{{{SITEMAP_NS}}}loc").text = loc
    if lastmod is not None:
        ET.SubElement(element, f"{{{SITEMAP_NS}}}lastmod").text = lastmod.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )


@bp.route("/sitemap.xml")
def sitemap_index() -> Response:
    """The list of sitemap files: posts in chunks by id, then tags and authors."""
    last_id = connection().execute(sa.select(sa.func.max(post.c.id)).where(visible())).scalar() or 0
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for chunk in range(last_id // CHUNK + 1):
        _url(root, "sitemap", url_for("feeds.sitemap_posts", chunk=chunk, _external=True))
    _url(root, "sitemap", url_for("feeds.sitemap_pages", _external=True))
    return _xml(root)


@bp.route("/sitemap/posts-<int:chunk>.xml")
def sitemap_posts(chunk: int) -> Response:
    """Published posts with ids in one chunk."""
    if chunk > 100_000:
        abort(404)
    query = (
        sa.select(post.c.id, post.c.title, post.c.published_at, post.c.updated)
        .where(visible(), post.c.id >= chunk * CHUNK, post.c.id < (chunk + 1) * CHUNK)
        .order_by(post.c.id)
    )
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for row in connection().execute(query).mappings():
        loc = url_for("blog.detail", post_id=row["id"], slug=slugify(row["title"]), _external=True)
        _url(root, "url", loc, row["updated"] or row["published_at"])
    return _xml(root)


@bp.route("/sitemap/pages.xml")
def sitemap_pages() -> Response:
    """Tag pages and author profiles, each with the time of its newest post."""
    latest = sa.func.max(post.c.published_at)
    tags = (
        sa.select(tag.c.name, latest)
        .select_from(
            tag.join(post_tag, post_tag.c.tag_id == tag.c.id).join(
                post, post.c.id == post_tag.c.post_id
            )
        )
        .where(visible())
        .group_by(tag.c.name)
        .order_by(tag.c.name)
        .limit(25_000)
    )
    authors = (
        sa.select(user.c.username, latest)
        .select_from(user.join(post, post.c.author_id == user.c.id))
        .where(visible())
        .group_by(user.c.username)
        .order_by(user.c.username)
        .limit(25_000)
    )
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    _url(root, "url", url_for("index", _external=True))
    conn = connection()
    for name, lastmod in conn.execute(tags):
        _url(root, "url", url_for("tags.tag", name=name, _external=True), lastmod)
    for username, lastmod in conn.execute(authors):
        _url(root, "url", url_for("users.profile", username=username, _external=True), lastmod)
    return _xml(root)


@bp.route("/robots.txt")
def robots() -> Response:
    """Let crawlers in, keep them out of account pages and search, point them at the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /auth/",
        "Disallow: /me/",
        "Disallow: /search",
        f"Sitemap: {url_for('feeds.sitemap_index', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
