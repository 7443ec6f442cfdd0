"""Feeds (Atom, RSS, JSON Feed) for the site, each tag and each author."""

from flaskr.feeds.views import bp

__all__ = ["bp"]
