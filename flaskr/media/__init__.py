"""Pictures: uploads checked and cleaned, made in the widths pages show, kept in a store."""

from flaskr.media.views import bp

__all__ = ["bp"]
