"""Feed URLs for the site, each tag and each author, answered conditionally (ETag, 304)."""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import gettext
from werkzeug.http import http_date

from flaskr import markup
from flaskr.auth import queries as auth_queries
from flaskr.blog import queries as blog_queries
from flaskr.blog import services as blog_services
from flaskr.blog import urls as blog_urls
from flaskr.comments import queries as comment_queries
from flaskr.db import utcnow
from flaskr.db.prepared import Row
from flaskr.feeds.formats import CARRIED, MIMETYPES, WRITERS, Entry, Feed, Picture
from flaskr.fragments import Fragments
from flaskr.i18n import speaking
from flaskr.links import link
from flaskr.media.pipeline import MIME_TYPES
from flaskr.pagecache import cached_page
from flaskr.policy import post_is_public, public

bp = Blueprint("feeds", __name__)

#: The `updated` of a feed with no posts yet: fixed, so its ETag is stable.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1)
#: Bytes of feed entries kept per worker process (feeds._entries); least recently used go first.
ENTRY_BYTES = 8 * 1024 * 1024
KINDS = "<any(atom, rss, json):kind>"
#: Last-Modified is sent only once the newest change is this old: HTTP dates have
#: whole seconds, so a later change in the same second would look unchanged.
SETTLE = timedelta(seconds=2)
_DNS_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


@bp.app_template_global()
def feed_links(endpoint: str, **values: Any) -> dict[str, str]:
    """The site-relative address of each kind of one feed ('atom', 'rss', 'json'), for a
    page that links them twice (its <head> and its text): made once a page."""
    return {kind: link(endpoint, kind=kind, **values) for kind in MIMETYPES}


@bp.route(f"/feed.{KINDS}")
@public
@cached_page
def site(kind: str) -> Response:
    """The newest posts of the whole blog."""
    config = current_app.config
    return _feed(kind, config["SITE_NAME"], config["SITE_DESCRIPTION"], link("index"))


@bp.route(f"/tag/<name>/feed.{KINDS}")
@public
@cached_page
def tag(name: str, kind: str) -> Response:
    """The newest posts carrying one tag."""
    config = current_app.config
    with speaking(config["LANGUAGE"]):  # a feed is in the site's language, for everyone
        description = gettext("Posts tagged %(tag)s", tag=name)
    return _feed(
        kind,
        f"{config['SITE_NAME']}: {name}",
        description,
        link("tags.tag", name=name),
        tag=name,
    )


@bp.route(f"/<int:post_id>/comments/feed.{KINDS}")
@public
@cached_page
def comments(post_id: int, kind: str) -> Response:
    """The newest comments under one post (what every visitor sees of its thread)."""
    post = blog_queries.find_post(post_id)
    if post is None or not post_is_public(post):
        abort(404)
    config = current_app.config
    rows = comment_queries.feed_page(post_id, config["FEED_ITEMS"])
    newest = max((_comment_updated(r) for r in rows), default=None)
    shown = (post["title"], [(r["id"], r["edited_at"], r["username"]) for r in rows])
    response = _conditional(kind, shown, newest)
    if response.status_code == 304:
        return response
    site, authority = _site_address()
    with speaking(config["LANGUAGE"]):  # a feed is in the site's language, for everyone
        title = gettext("Comments on “%(title)s”", title=post["title"])
        entries = [
            Entry(
                id=f"tag:{authority},{r['created_at'].date().isoformat()}:comment/{r['id']}",
                url=site + link("comments.permalink", comment_id=r["id"]),
                title=gettext("%(name)s on “%(title)s”", name=r["username"], title=post["title"]),
                author=r["username"],
                published=r["created_at"],
                updated=_comment_updated(r),
                content_html=markup.absolute_file_urls(r["body_html"], site),
                summary="",
                tags=[],
            )
            for r in rows
        ]
    home_url = site + blog_urls.post_url(post) + "#comments"
    feed_url = site + link("feeds.comments", post_id=post_id, kind=kind)
    feed = Feed(title, title, home_url, feed_url, newest or EMPTY_FEED_UPDATED, config["LANGUAGE"])
    response.set_data(WRITERS[kind](feed, entries))
    return response


def _comment_updated(row: Row) -> datetime:
    return row["edited_at"] or row["created_at"]


@bp.route(f"/u/<path:username>/feed.{KINDS}")
@public
@cached_page
def author(username: str, kind: str) -> Response:
    """The newest posts of one author."""
    config = current_app.config
    with speaking(config["LANGUAGE"]):  # a feed is in the site's language, for everyone
        description = gettext("Posts by %(author)s", author=username)
    return _feed(
        kind,
        f"{config['SITE_NAME']}: {username}",
        description,
        link("users.profile", username=username),
        author=username,
    )


def _feed(
    kind: str,
    title: str,
    description: str,
    home: str,
    *,
    author: str | None = None,
    tag: str | None = None,
) -> Response:
    """The feed of the newest posts (by `author`, or with `tag`) readers see, `home` the
    site-relative address of the page it follows."""
    config = current_app.config
    # The feed's entries only: no extra row to tell that more follow (feeds have no pager).
    rows = blog_queries.list_reader_posts(
        limit=config["FEED_ITEMS"], author=author, tag=tag, feed=True
    )
    if not rows:
        if tag is not None:
            abort(404)  # no visible post carries it: to readers the tag does not exist
        if author is not None and auth_queries.find_user_by_name(author) is None:
            abort(404)  # no such author (one with nothing published yet: an empty feed)
    full = config["FEED_FULL_CONTENT"]
    newest = max((_entry_updated(r) for r in rows), default=None)
    shown = (title, description, full, [(r["id"], r["version"]) for r in rows])
    response = _conditional(kind, shown, newest)
    if response.status_code == 304:
        return response
    # Every absolute address is the site's origin and a site-relative link: one
    # url_for(_external=True) a feed, not one per address.
    site, authority = _site_address()
    entries = _entries(rows, full, site, authority)
    # Built, not request.base_url: that keeps characters such as < and " that a URI may not hold.
    # (A view always has an endpoint: str() only tells the type checker so.)
    feed_url = site + link(str(request.endpoint), **(request.view_args or {}))
    feed = Feed(
        title, description, site + home, feed_url, newest or EMPTY_FEED_UPDATED, config["LANGUAGE"]
    )
    response.set_data(WRITERS[kind](feed, entries))
    return response


def _entries(rows: list[Row], full: bool, site: str, authority: str) -> list[Entry]:
    """The feed's entries for `rows` (list_reader_posts), each built once per process
    for as long as nothing it is built from changes.

    An entry is kept under everything its building reads - the post's values
    themselves, not a version number, and the site's address, the script root,
    FEED_FULL_CONTENT and the site's language - so a change made any way at all
    (the editor, a rename, plain SQL, another Host) makes a new key, and a kept
    entry is never given for a post that has changed. Building one (its address,
    its tag: id, its picture) was a fifth of a cold feed's time (bench/RESULTS.md).
    Entries are shared between feeds: nothing may change one once built (each
    carries its text as each format writes it, formats._written). `site` and
    `authority`: the site's origin and tag: authority (_site_address).

    Looked up by the rows as read, and only the posts not kept go through
    with_html(). A row whose stored HTML is not current (blog.services.rendered)
    is never looked up nor kept: its values do not hold the Markdown it is
    rendered from, so they could name an entry built from an older text.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept: Fragments[Entry] | None = app.extensions.get("flaskr.feeds.entries")
    if kept is None:
        kept = app.extensions.setdefault("flaskr.feeds.entries", Fragments(ENTRY_BYTES))
    language = app.config["LANGUAGE"]
    # The tag: authority is the site's host name: the site's address covers it.
    context = (site, request.script_root, full, language)
    keys = [_entry_key(context, row) if blog_services.rendered(row) else None for row in rows]
    entries = kept.get_many(keys)
    missing = [i for i, entry in enumerate(entries) if entry is None]
    if missing:
        posts = blog_services.with_html([rows[i] for i in missing])
        for i, post in zip(missing, posts, strict=True):
            entry = entries[i] = _entry(post, site, authority, full, language)
            key = keys[i]
            if key is not None:
                # The body twice (in the key and the content), about once more for
                # each format's text the entry carries (formats._written), and the rest.
                kept.put(key, entry, (2 + len(CARRIED)) * len(post["body_html"]) + 1024)
    return cast(list[Entry], entries)


def _entry_key(context: tuple[Any, ...], row: Row) -> tuple[Any, ...]:
    """What a post's entry is built from, as its row holds it (the tags as one text)."""
    return (
        context,
        row["id"],
        row["created"],
        row["title"],
        row["slug"],
        row["username"],
        row["published_at"],
        row["updated"],
        row["summary"],
        row["tag_names"],
        row["language"],
        row["cover"],
        row["body_html"],
    )


def _entry(p: dict[str, Any], site: str, authority: str, full: bool, language: str) -> Entry:
    """A post's feed entry, built."""
    # The cover is rendered once per entry, for its content and its picture.
    html = _with_cover(p)
    return Entry(
        id=_entry_id(p, authority),
        url=site + blog_urls.post_url(p),
        title=p["title"],
        author=p["username"],
        published=p["published_at"],
        updated=_entry_updated(p),
        content_html=markup.absolute_file_urls(html, site) if full else None,
        summary=p["summary"] or "",
        tags=p["tags"],
        # Only a language other than the feed's needs saying.
        language=p["language"] if p["language"] != language else None,
        image=_picture(html, site),
    )


#: werkzeug's HTTP date of a feed's last change, remembered: the same few dates are
#: written again and again (a fiftieth of a cold feed's time each).
_http_date = functools.lru_cache(maxsize=256)(http_date)


def _conditional(kind: str, shown: Any, newest: datetime | None) -> Response:
    """A feed's response with its ETag and Last-Modified set: a 304 when the reader's
    copy is current, else a 200 for the caller to fill. `shown`: what sets the
    document apart (its entries' ids and versions, its title...)."""
    # This process's settings (site name, full content...) hold from its first feed on.
    # (Asked first: the clock read for setdefault's argument was 1% of a feed.)
    started = current_app.extensions.get("flaskr.feeds.started")
    if started is None:
        started = current_app.extensions.setdefault("flaskr.feeds.started", utcnow())
    change = blog_queries.find_last_change()
    # The ETag covers everything that changes the document: what it shows, the
    # settings, and the content version (a renamed author or a tag changed by plain
    # SQL leaves post versions alone). An unchanged feed costs two small queries.
    content_version = None if change is None else change["version"]
    fingerprint = hashlib.sha256(
        repr((kind, markup.RENDER_VERSION, content_version, shown)).encode()
    ).hexdigest()[:32]
    last_modified = _last_modified(change, started, newest)
    response = Response(mimetype=MIMETYPES[kind])
    response.set_etag(fingerprint)
    if last_modified is not None:
        # Rounded up to the whole second HTTP can say (the header drops the fraction),
        # so that date itself matches.
        rounded = last_modified + timedelta(seconds=bool(last_modified.microsecond))
        response.headers["Last-Modified"] = _http_date(rounded)
    # Written out: Werkzeug's cache_control object parsed and wrote the header at
    # each assignment, a tenth of what a feed's freshness check cost.
    response.headers["Cache-Control"] = "public, max-age=300"
    if _not_modified(fingerprint, last_modified):
        response.status_code = 304
    return response


def _with_cover(post: dict[str, Any]) -> str:
    """The post's HTML with its cover picture first, as its page shows it."""
    if not post["cover"]:
        return post["body_html"]
    return f"<p>{markup.picture_html(post['cover'], lazy=False)}</p>\n{post['body_html']}"


def _picture(body_html: str, site: str) -> Picture | None:
    """The first picture a post shows, for the feed to name beside its content."""
    found = markup.first_picture(body_html)
    if found is None:
        return None
    url = found["src"] if "//" in found["src"] else site + found["src"]
    kind = MIME_TYPES.get(url.rsplit(".", 1)[-1], "application/octet-stream")
    return Picture(url, kind, found["alt"])


def _entry_updated(row: Row | dict[str, Any]) -> datetime:
    # A post edited while it was scheduled was updated before it was published.
    return max(row["published_at"], row["updated"] or row["published_at"])


def _last_modified(
    change: Row | None, started: datetime, newest: datetime | None
) -> datetime | None:
    """When this feed last changed, or None when that can't be vouched for yet.

    The latest of: the last write to posts, tags or users (a deletion or a
    backdated post moves no entry date), the newest entry (a scheduled post
    appears without any write), and this process's start (settings change only
    with a restart). Assumes the database and app clocks agree, as scheduling does.
    """
    if change is None or change["changed_at"] is None:
        return None  # the counter row is gone (a hand-emptied database)
    latest = max(change["changed_at"], started, newest or started)
    if latest > utcnow() - SETTLE:
        return None
    return latest


#: Site addresses kept per process (_site_address); past this many, made each time.
MAX_ADDRESSES = 64


def _site_address() -> tuple[str, str]:
    """(origin, tag: authority) as this request names the site, made once per process
    for each scheme and host it is asked under: making both took a twentieth of a
    cold Atom feed.

    The origin is the scheme and host that url_for(_external=True) puts before a
    site-relative link: each entry's address is this plus its link(), not a
    url_for() of its own (a twentieth of the feed's time each). Neither holds the
    script root, which link() adds. The authority is the site's host name, as a
    tag: URI's (RFC 4151 wants a DNS name).
    """
    key = (request.scheme, request.host)
    kept: dict[tuple[str, str], tuple[str, str]] = current_app.extensions.setdefault(
        "flaskr.feeds.addresses", {}
    )
    found = kept.get(key)
    if found is None:
        found = (url_for("index", _external=True).removesuffix(link("index")), _authority())
        if len(kept) < MAX_ADDRESSES:
            kept[key] = found
    return found


def _authority() -> str:
    # From the Host header itself: request.host_url builds a whole URL and
    # decodes it to an IRI, a twenty-fifth of an Atom feed's time.
    host = urlsplit("//" + request.host).hostname or ""
    if "xn--" in host:
        # host_url writes an IDNA name in Unicode, which is no DNS name: such
        # sites have always had "invalid", and entry ids never change.
        host = urlsplit(request.host_url).hostname or ""
    host = host.rstrip(".")
    return host if _DNS_NAME.fullmatch(host) else "invalid"


def _entry_id(row: Row | dict[str, Any], authority: str) -> str:
    """A post's feed entry id: a tag: URI of its creation time and id, unique forever.

    Not its URL, which changes with the title; and with the creation time a reused
    id (old SQLite databases) still names a different entry.
    """
    created: datetime = row["created"]
    return f"tag:{authority},{created.date().isoformat()}:post/{row['id']}/{created.time()}"


def _not_modified(etag: str, last_modified: datetime | None) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(etag)
    since = request.if_modified_since
    # At full precision: a date taken from our Date header (cut to the second)
    # never covers a change later in that second.
    return (
        since is not None
        and last_modified is not None
        and since.replace(tzinfo=None) >= last_modified
    )
