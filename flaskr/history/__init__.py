"""A post's history: its earlier versions, compared with today's text, and restored."""

from flaskr.history.views import bp

__all__ = ["bp"]
