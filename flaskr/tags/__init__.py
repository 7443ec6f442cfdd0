"""Tags: labels on posts, a page per tag, and the list of all tags."""

from flaskr.tags.views import bp

__all__ = ["bp"]
