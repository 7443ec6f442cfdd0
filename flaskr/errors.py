"""Error pages in the site's layout; never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from flaskr.db.outages import ERRORS, is_outage
from flaskr.i18n import current_language
from flaskr.security import audit

#: The title of each error page (werkzeug's names, translated).
NAMES = {
    400: lazy_gettext("Bad Request"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not Found"),
    405: lazy_gettext("Method Not Allowed"),
    411: lazy_gettext("Length Required"),
    413: lazy_gettext("Request Entity Too Large"),
    429: lazy_gettext("Too Many Requests"),
    500: lazy_gettext("Internal Server Error"),
    503: lazy_gettext("Service Unavailable"),
}
#: What each error means to a reader, shown under its title.
EXPLANATIONS = {
    400: lazy_gettext("The request could not be understood. Check what you entered and try again."),
    403: lazy_gettext("You do not have permission to do that."),
    404: lazy_gettext("There is nothing at this address."),
    405: lazy_gettext("This page does not accept that kind of request."),
    411: lazy_gettext("The request did not say how long it is. Send it with a Content-Length."),
    413: lazy_gettext("What you sent is too large."),
    429: lazy_gettext("Too many attempts. Please wait a moment before trying again."),
    500: lazy_gettext(
        "Something went wrong on our side. It has been logged; please try again later."
    ),
    503: lazy_gettext("The blog is briefly unavailable. Please try again in a few seconds."),
}
RETRY_AFTER_SECONDS = 5


def init_app(app: Flask) -> None:
    """Answer HTTP errors and database outages with readable pages."""
    app.register_error_handler(HTTPException, _http_error)
    for error_class in ERRORS:
        app.register_error_handler(error_class, _database_error)
    app.register_error_handler(InternalServerError, _http_error)


def _http_error(error: HTTPException):
    code = error.code or 500
    if code == 429:
        audit("rate-limited", path=request.path, limit=error.description)
    explanation = str(EXPLANATIONS.get(code, ""))
    name = str(NAMES.get(code, error.name))
    if code == 400 and error.description and not error.description.startswith("The browser"):
        # Our own 400s carry a message written for people; show it.
        explanation = error.description
    if code in (403, 404) and error.description and error.description != type(error).description:
        # So do our own 403s and 404s that say why (a post closed to comments, a link
        # that is not valid).
        explanation = error.description
    response = error.get_response()
    if request_ctx.url_adapter is None:
        # No URLs can be built for this request (an untrusted Host): the layout's
        # links would fail, so answer with a plain page.
        body = _plain_page(code, name, explanation)
    else:
        body = render_template("errors/error.html", code=code, name=name, explanation=explanation)
    response.set_data(body)
    response.content_type = "text/html; charset=utf-8"
    return response


def _database_error(error: Exception):
    if not is_outage(error):
        # A wrong query is a bug, not an outage: Flask logs it with its
        # traceback and answers with the 500 page.
        raise error
    current_app.logger.error("database unavailable on %s: %s", request.path, error)
    # A plain page: the layout may need the database, which is what failed.
    body = _plain_page(503, str(NAMES[503]), str(EXPLANATIONS[503]))
    return (
        body,
        503,
        {
            "Retry-After": str(RETRY_AFTER_SECONDS),
            "Content-Type": "text/html; charset=utf-8",
        },
    )


def _plain_page(code: int, name: str, explanation: str) -> str:
    """An error page that needs neither templates nor the database."""
    return (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{code} {escape(name)}</title></head>"
        f"<body><main><h1>{escape(name)}</h1><p>{escape(explanation)}</p></main></body></html>"
    )
