"""The admin area: accounts and their roles, the audit log (admins only)."""

from flaskr.admin.views import bp

__all__ = ["bp"]
