"""Date archives: every month with posts, with counts, and each month's posts."""

from flaskr.archive.views import bp

__all__ = ["bp"]
