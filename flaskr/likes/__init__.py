"""Likes: readers like posts (one like per account), and every page shows the count."""

from flaskr.likes.views import bp

__all__ = ["bp"]
