"""How the site looks to each reader: the light or dark theme, remembered in a cookie."""

from flaskr.appearance.views import bp

__all__ = ["bp"]
