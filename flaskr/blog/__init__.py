"""The blog: the front page, post pages and the editor."""

from flaskr.blog.views import bp

__all__ = ["bp"]
