"""The addresses of posts and of their tags, as pages link to them."""

from __future__ import annotations

from typing import Any

from flask import url_for

from flaskr.blog.slugs import post_slug
from flaskr.i18n.dates import day
from flaskr.links import link


def post_url(post: Any, _external: bool = False) -> str:
    """The canonical address of a post."""
    if _external:
        return url_for("blog.detail", post_id=post["id"], slug=post_slug(post), _external=True)
    return link("blog.detail", post_id=post["id"], slug=post_slug(post))


def for_readers(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The posts (from blog.services.with_html) with what templates link and show.

    Adds `url`, `day` (the publish date, as the reader reads dates) and
    `tag_links` ((name, address) pairs): made here once per post, they cost a
    list page far less than the template calls they replace.
    """
    for post in posts:
        post["url"] = post_url(post)
        post["day"] = day(post["published_at"])
        post["tag_links"] = [(name, link("tags.tag", name=name)) for name in post["tags"]]
    return posts
