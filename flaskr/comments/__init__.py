"""Comments: readers write under posts; moderators keep the threads clean."""

from flask import Flask

from flaskr.comments import shown
from flaskr.comments.screening import form_stamp
from flaskr.comments.services import count_text, reason_text
from flaskr.comments.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Give templates the wording of a comment count, the comment form's stamp and kept comments."""
    app.add_template_global(count_text, "comment_count_text")
    app.add_template_global(form_stamp, "comment_form_stamp")
    app.add_template_global(reason_text, "held_reason_text")
    shown.init_app(app)
