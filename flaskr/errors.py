"""Error pages in the site's layout; never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from flaskr.db.outages import ERRORS, is_outage
from flaskr.security import audit

#: What each error means to a reader, shown under its title.
EXPLANATIONS = {
    400: "The request could not be understood. Check what you entered and try again.",
    403: "You do not have permission to do that.",
    404: "There is nothing at this address.",
    405: "This page does not accept that kind of request.",
    411: "The request did not say how long it is. Send it with a Content-Length.",
    413: "What you sent is too large.",
    429: "Too many attempts. Please wait a moment before trying again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
    503: "The blog is briefly unavailable. Please try again in a few seconds.",
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
    explanation = EXPLANATIONS.get(code, "")
    if code == 400 and error.description and not error.description.startswith("The browser"):
        # Our own 400s carry a message written for people; show it.
        explanation = error.description
    response = error.get_response()
    if request_ctx.url_adapter is None:
        # No URLs can be built for this request (an untrusted Host): the layout's
        # links would fail, so answer with a plain page.
        body = _plain_page(code, error.name, explanation)
    else:
        body = render_template(
            "errors/error.html", code=code, name=error.name, explanation=explanation
        )
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
    body = _plain_page(503, ServiceUnavailable().name, EXPLANATIONS[503])
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
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{code} {escape(name)}</title></head>"
        f"<body><main><h1>{escape(name)}</h1><p>{escape(explanation)}</p></main></body></html>"
    )
