"""Notifications: emails about comments, each kind switchable and unsubscribable in one click."""

from flask import Flask, g

from flaskr.notifications import services
from flaskr.notifications.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Give the account page the kinds of email and the signed-in account's choices."""

    def notification_settings() -> list[tuple[str, str, bool]]:
        chosen = services.settings(g.user["id"])
        offered = services.offered(g.user)
        return [(k, str(services.KINDS[k]), chosen[k]) for k in services.KINDS if k in offered]

    app.add_template_global(notification_settings)
