"""Likes: readers like posts (one like per account), and every page shows the count."""

from flask import Flask

from flaskr.likes.services import count_text
from flaskr.likes.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Give templates the one wording of a like count ("3 likes")."""
    app.add_template_global(count_text, "like_count_text")
