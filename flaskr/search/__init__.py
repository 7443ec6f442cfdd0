"""Full-text search over posts: title, body, tags and author."""

from flaskr.search.views import bp

__all__ = ["bp"]
