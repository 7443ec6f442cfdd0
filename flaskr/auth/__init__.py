"""Accounts: registration, sign-in, sessions and the account page."""

from flaskr.auth.views import bp, login_required

__all__ = ["bp", "login_required"]
