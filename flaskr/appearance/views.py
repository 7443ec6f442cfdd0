"""Choosing the theme: a plain form POST, so it works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, has_request_context, redirect, request
from flask_babel import gettext

from flaskr.appearance import themes
from flaskr.extensions import csrf
from flaskr.policy import public
from flaskr.security import is_own_navigation, safe_path

bp = Blueprint("appearance", __name__)


@bp.app_context_processor
def theme() -> dict[str, str | None]:
    """Every page knows the reader's theme (`<html data-theme>`); None follows the device."""
    return {"theme": themes.theme_of(request.cookies) if has_request_context() else None}


@bp.route("/theme", methods=("POST",))
@public
@csrf.exempt
def choose_theme():
    """Remember the reader's theme in this browser and go back to the page they were on.

    No CSRF token: the form is on pages kept for every anonymous reader, which
    carry no per-reader token. The browser's own word that the form came from
    this site (Sec-Fetch-Site, else Origin) stands in for it; the worst a forged
    request could do is change how the site looks in that browser.
    """
    if not _from_this_site():
        abort(403)
    choice = request.form.get("theme", "")
    if choice not in themes.CHOICES:
        abort(400, description=gettext("Choose a theme: system, light or dark."))
    response = redirect(safe_path(request.form.get("next")), code=303)
    secure = current_app.session_interface.get_cookie_secure(current_app)
    if choice == themes.SYSTEM:
        response.delete_cookie(themes.COOKIE, secure=secure, samesite="Lax")
    else:
        response.set_cookie(
            themes.COOKIE,
            choice,
            max_age=themes.MAX_AGE,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def _from_this_site() -> bool:
    # Fetch metadata where the browser sends it; else Origin, where it sends that.
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        return False
    return is_own_navigation()
