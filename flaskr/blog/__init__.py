"""The blog: the front page, post pages, the editor and post history."""

from flaskr.blog import history  # noqa: F401 - registers the history pages on bp
from flaskr.blog.views import bp

__all__ = ["bp"]
