"""Author profiles: bio and posts."""

from flaskr.users.views import bp

__all__ = ["bp"]
