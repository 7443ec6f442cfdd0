"""The blog: the front page, post pages, the editor and "My posts"."""

from flaskr.blog.views import bp

__all__ = ["bp"]
