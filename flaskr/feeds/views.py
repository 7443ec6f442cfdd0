"""Feed URLs for the site, each tag and each author, answered conditionally (ETag, 304)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request, url_for

from flaskr import markup
from flaskr.auth import queries as auth_queries
from flaskr.blog import queries as blog_queries
from flaskr.blog import services as blog_services
from flaskr.blog.slugs import slugify
from flaskr.feeds.formats import MIMETYPES, WRITERS, Entry, Feed
from flaskr.pagecache import cached_page
from flaskr.policy import public
from flaskr.tags import queries as tag_queries

bp = Blueprint("feeds", __name__)

#: The `updated` of a feed with no posts yet: fixed, so its ETag is stable.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1)
KINDS = "<any(atom, rss, json):kind>"


@bp.route(f"/feed.{KINDS}")
@public
@cached_page
def site(kind: str) -> Response:
    """The newest posts of the whole blog."""
    config = current_app.config
    return _feed(
        kind, config["SITE_NAME"], config["SITE_DESCRIPTION"], url_for("index", _external=True)
    )


@bp.route(f"/tag/<name>/feed.{KINDS}")
@public
@cached_page
def tag(name: str, kind: str) -> Response:
    """The newest posts carrying one tag."""
    found = tag_queries.find_tag(name)
    if found is None:
        abort(404)
    site_name = current_app.config["SITE_NAME"]
    return _feed(
        kind,
        f"{site_name}: {name}",
        f"Posts tagged {name}",
        url_for("tags.tag", name=name, _external=True),
        tag_id=found["id"],
    )


@bp.route(f"/u/<path:username>/feed.{KINDS}")
@public
@cached_page
def author(username: str, kind: str) -> Response:
    """The newest posts of one author."""
    found = auth_queries.find_user_by_name(username)
    if found is None:
        abort(404)
    return _feed(
        kind,
        f"{current_app.config['SITE_NAME']}: {username}",
        f"Posts by {username}",
        url_for("users.profile", username=username, _external=True),
        author_id=found["id"],
    )


def _feed(
    kind: str,
    title: str,
    description: str,
    home_url: str,
    *,
    author_id: int | None = None,
    tag_id: int | None = None,
) -> Response:
    config = current_app.config
    rows = blog_queries.list_posts(
        page=1, per_page=config["FEED_ITEMS"], author_id=author_id, tag_id=tag_id
    )
    rows = rows[: config["FEED_ITEMS"]]
    full = config["FEED_FULL_CONTENT"]
    # The ETag covers everything that changes the document, so unchanged feeds cost one query.
    fingerprint = hashlib.sha256(
        repr(
            (kind, title, full, markup.RENDER_VERSION, [(r["id"], r["version"]) for r in rows])
        ).encode()
    ).hexdigest()[:32]
    updated = max((r["updated"] or r["published_at"] for r in rows), default=EMPTY_FEED_UPDATED)
    response = Response(mimetype=MIMETYPES[kind])
    response.set_etag(fingerprint)
    response.last_modified = updated
    response.cache_control.public = True
    response.cache_control.max_age = 300
    if _not_modified(fingerprint, updated):
        response.status_code = 304
        return response
    posts = blog_services.with_html(rows)
    entries = [
        Entry(
            url=url_for("blog.detail", post_id=p["id"], slug=slugify(p["title"]), _external=True),
            title=p["title"],
            author=p["username"],
            published=p["published_at"],
            updated=p["updated"] or p["published_at"],
            content_html=p["body_html"] if full else None,
            summary=p["summary"] or "",
            tags=p["tags"],
        )
        for p in posts
    ]
    feed = Feed(title, description, home_url, request.base_url, updated)
    response.set_data(WRITERS[kind](feed, entries))
    return response


def _not_modified(etag: str, updated: datetime) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(etag)
    since = request.if_modified_since
    return since is not None and since.replace(tzinfo=None) >= updated.replace(microsecond=0)
