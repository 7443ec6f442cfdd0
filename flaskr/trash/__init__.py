"""The trash: deleted posts wait here, restorable by their author, until TRASH_DAYS pass."""

from flaskr.trash.views import bp

__all__ = ["bp"]
