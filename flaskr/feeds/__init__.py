"""Feeds (Atom, RSS, JSON Feed), the sitemap and robots.txt."""

from flaskr.feeds import sitemap  # noqa: F401 - registers the sitemap routes on bp
from flaskr.feeds.views import bp

__all__ = ["bp"]
