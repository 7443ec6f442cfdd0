"""Response headers, trusted hosts and safe redirect targets."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import IO, Any

from flask import (
    Config,
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from flaskr.contexts import this_g, this_request
from flaskr.validation import has_control_characters

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Trust the configured proxies, limit every body, refuse control characters, add headers."""
    # Inside ProxyFix: by the time a response starts, the scheme is the one it trusted.
    app.wsgi_app = ResponseHeaders(app.wsgi_app, app.extensions)  # type: ignore[method-assign]
    if app.config["PROXY_FIX"]:
        # Only as many hops as the operator says: X-Forwarded-* is forgeable otherwise.
        app.wsgi_app = ProxyFix(app.wsgi_app, **app.config["PROXY_FIX"])  # type: ignore[method-assign]
    app.wsgi_app = UnsizedBodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, app.config, app.extensions.setdefault("flaskr.body_limits", [])
    )
    app.url_value_preprocessor(_larger_body_limit)
    app.session_interface = _SessionInterface()
    app.before_request(_check_request)
    app.after_request(_headers)
    audit_log = app.logger.getChild("audit")
    if audit_log.level == logging.NOTSET:
        # Routine events are INFO; without this they would be dropped at Python's
        # default WARNING. A level the operator's logging config set is kept.
        audit_log.setLevel(logging.INFO)


#: Methods whose requests may carry a body.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Set by UnsizedBodyLimit on a chunked body that cannot be read safely.
_LENGTH_REQUIRED = "flaskr.length_required"


class UnsizedBodyLimit:
    """WSGI middleware: a body without a Content-Length gets one, so MAX_CONTENT_LENGTH holds.

    Werkzeug refuses a body whose Content-Length exceeds the limit, but reads one
    without (chunked, or HTTP/2) only up to the limit and then stops without an
    error: the cut body was processed as if it were whole. Where the server does
    not end the stream itself (no wsgi.input_terminated), a chunked body cannot be
    read safely at all; Werkzeug ignored it, and it is now a 411.
    """

    def __init__(
        self, wsgi_app: Any, config: Config, larger: list[tuple[re.Pattern[str], int]] | None = None
    ) -> None:
        self.wsgi_app = wsgi_app
        self.config = config
        self.larger = [] if larger is None else larger

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        larger = None
        cookie = f"{self.config.get('SESSION_COOKIE_NAME', 'session')}="
        if self.larger and cookie in environ.get("HTTP_COOKIE", ""):
            # Only someone who seems signed in (the view checks it) may send more.
            larger = _body_limit(self.larger, environ.get("PATH_INFO", ""))
        limit = larger or self.config["MAX_CONTENT_LENGTH"]
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        unsized = not environ.get("CONTENT_LENGTH") and environ["REQUEST_METHOD"] in _BODY_METHODS
        if limit is not None and (chunked or unsized):
            if environ.get("wsgi.input_terminated"):
                # One byte past the limit is enough to know; the rest is never read
                # (the server closes the connection after the 413).
                body = _read_at_most(environ["wsgi.input"], limit + 1)
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ.pop("HTTP_TRANSFER_ENCODING", None)
            elif chunked:
                environ[_LENGTH_REQUIRED] = True
        return self.wsgi_app(environ, start_response)


def allow_larger_body(app: Flask, paths: str, limit: int) -> None:
    """Let requests to the paths the regular expression `paths` matches whole (uploads)
    carry bodies up to `limit` bytes, instead of MAX_CONTENT_LENGTH; every other path
    keeps that."""
    app.extensions.setdefault("flaskr.body_limits", []).append((re.compile(paths), limit))


def _body_limit(larger: list[tuple[re.Pattern[str], int]], path: str) -> int | None:
    return next((limit for paths, limit in larger if paths.fullmatch(path)), None)


def _larger_body_limit(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before every before_request function: the CSRF
    # check reads the form, and must read it with this path's limit.
    current = this_request()
    if current.method not in _BODY_METHODS or not session.get("user_id"):
        return  # no body to read (every page view), or nobody signed in to send one
    larger = _body_limit(current_app.extensions.get("flaskr.body_limits", []), current.path)
    if larger:
        current.max_content_length = larger


def allow_images_from(app: Flask, source: str) -> None:
    """Let pages load pictures from one other place (an object store's folder, such as
    https://cdn.example/public/): the CSP's img-src names it, and nothing else."""
    if not re.fullmatch(
        r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%!$&()*+=:@/-]*)?", source
    ):
        # Anything else (a space, ; or a quote) would change the policy itself.
        raise ValueError(f"not an address a Content-Security-Policy can name: {source!r}")
    csp = f"{CSP}; img-src 'self' {source}"
    app.extensions["flaskr.default_headers"] = tuple(
        (name, csp if name == "Content-Security-Policy" else value)
        for name, value in DEFAULT_HEADERS
    )


def _read_at_most(stream: IO[bytes], size: int) -> bytes:
    """Up to size bytes of the stream: reads may return less than asked before the end."""
    chunks = []
    while size > 0:
        chunk = stream.read(min(size, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with a Secure cookie on every HTTPS request.

    Cheaper per request than Flask's own, with the same cookies: the signing
    serializer is built once per secret key, not on every request.
    """

    _serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] = ((), None)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached_keys, serializer = self._serializer
        if cached_keys != keys:
            # A new key (a test, or a rotation) gets a new serializer.
            serializer = super().get_signing_serializer(app)
            self._serializer = (keys, serializer)
        return serializer

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            # Nothing to set or delete; Flask would only add Vary (as here).
            if session.accessed:
                vary(response, "Cookie")
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        # The setting covers a fixed https deployment; request.is_secure covers a
        # proxy that says X-Forwarded-Proto: https (trusted through PROXY_FIX).
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def _check_request() -> None:
    """Refuse a body that cannot be read safely (411) or control characters (400)."""
    current = this_request()  # every request: once, not per use
    environ = current.environ
    if environ.get(_LENGTH_REQUIRED):
        abort(411)
    if environ.get("QUERY_STRING") or current.method != "GET":
        _reject_control_characters()
    elif has_control_characters(current.path):
        # The common case, a GET without a query, needs only the path checked.
        abort(400, gettext("The address contains characters that are not allowed."))


def _reject_control_characters() -> None:
    # A NUL byte is legal in a URL but not in PostgreSQL text, and no person
    # types one: refuse it (and its kin) up front, the same on every database.
    # Newlines and tabs are fine in form values; bodies are multi-line.
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            abort(400, gettext("The address contains characters that are not allowed."))
    if request.method in ("POST", "PUT", "PATCH"):
        # request.form holds the fields of an urlencoded or multipart body, and is
        # empty for any other kind of body.
        for key, value in request.form.items(multi=True):
            if has_control_characters(key) or has_control_characters(value):
                abort(400, gettext("The form contains characters that are not allowed."))
    if has_control_characters(request.path):
        abort(400, gettext("The address contains characters that are not allowed."))


#: The headers every response gets unless its view set its own.
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


#: The headers on every response's Vary line (see vary_always()).
_VARY_ALWAYS = "flaskr.vary_always"


def vary_always(app: Flask, name: str) -> None:
    """Say on every response's Vary line that it depends on the request header `name`."""
    app.extensions.setdefault(_VARY_ALWAYS, []).append(name)


class ResponseHeaders:
    """WSGI middleware: every response gets the security headers its view did not set
    itself (HSTS too over HTTPS) and the names of vary_always() on its Vary line.

    Done on the WSGI header list, after Flask: every response gets them - an error
    page, a file, a page the page cache answered - for the price of one pass over a
    short list, where Werkzeug's Headers checks each value it is given.
    """

    def __init__(self, wsgi_app: Any, extensions: dict[str, Any]) -> None:
        self.wsgi_app = wsgi_app
        # Read per response: allow_images_from() and vary_always() may come later.
        self.extensions = extensions

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def send(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            secure = environ.get("wsgi.url_scheme") in ("https", "wss")
            return start_response(status, self.complete(headers, secure), *exc_info)

        return self.wsgi_app(environ, send)

    def complete(self, headers: list[tuple[str, str]], secure: bool) -> list[tuple[str, str]]:
        """headers with the missing defaults and Vary names added, as a new list (a
        list the page cache replays is never changed)."""
        present = {name.lower() for name, _ in headers}
        defaults = self.extensions.get("flaskr.default_headers", DEFAULT_HEADERS)
        added = [
            (name, value)
            for name, value in ((*defaults, HSTS) if secure else defaults)
            if name.lower() not in present
        ]
        names = self.extensions.get(_VARY_ALWAYS, ())
        if "vary" not in present:
            return [*headers, *added, ("Vary", ", ".join(names))] if names else [*headers, *added]
        kept = [(name, value) for name, value in headers if name.lower() != "vary"]
        said = [value for name, value in headers if name.lower() == "vary"]
        return [*kept, *added, ("Vary", _vary_line(said, names))]


def _headers(response: Response) -> Response:
    """Keep private pages out of caches (ResponseHeaders adds the rest)."""
    headers = response.headers
    if (
        this_g().get("user") is not None or this_request().path.startswith(("/auth/", "/admin/"))
    ) and "immutable" not in headers.get("Cache-Control", ""):
        # Pages for a signed-in user must not be kept by shared or browser caches
        # (a file under a name that never changes meaning, a picture, is nobody's own).
        headers["Cache-Control"] = "no-store"
        vary(response, "Cookie")
    return response


def vary(response: Response, name: str) -> None:
    """Say on the response's Vary line that what it holds depends on the request header
    `name`, so shared caches keep one copy per value; once, on one line."""
    # By hand: werkzeug's response.vary parses the line into a set (raising and
    # catching a KeyError when there is none) and writes it back, for every page.
    headers = response.headers
    said = [value for key, value in headers.items() if key.lower() == "vary"]
    if not said:
        headers.add("Vary", name)
        return
    headers.set("Vary", _vary_line(said, [name]))


def _vary_line(said: list[str], names: Iterable[str]) -> str:
    """One Vary line: the names of the lines `said` (as written, each once), then
    those of `names` not said yet."""
    kept = [part.strip() for line in said for part in line.split(",") if part.strip()]
    known = {each.lower() for each in kept}
    for name in names:
        if name.lower() not in known:
            kept.append(name)
            known.add(name.lower())
    return ", ".join(kept)


#: Sec-Fetch-Site values of a request started on this site, or typed by the person.
_OWN_SITE = frozenset({"same-origin", "same-site", "none"})
#: The Fetch metadata request headers is_own_navigation() reads, in this order.
_FETCH_METADATA = ("Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest")


def wants_json() -> bool:
    """True when the page's script asked for JSON; a plain form post gets a page."""
    return request.accept_mimetypes.best == "application/json"


def is_own_navigation() -> bool:
    """False when the browser says this request is not a page navigation started on this site."""
    # Fetch metadata (Sec-Fetch-*): an <img> loading a URL says Dest: image and
    # Mode: no-cors; a link from elsewhere says Site: cross-site. Browsers that
    # send none of it (and scripts such as the tutorial's tests) count as navigation.
    site, mode, dest = (request.headers.get(name) for name in _FETCH_METADATA)
    return (
        (site is None or site in _OWN_SITE)
        and (mode is None or mode == "navigate")
        and (dest is None or dest == "document")
    )


def safe_path(target: str | None) -> str:
    """Return target if it is a path on this site, else '/': never an open redirect."""
    # A path starts with one "/" ("//host" is another site). Browsers read a backslash
    # as "/" and drop tabs and line breaks ("/\host", and "/" tab "/host", mean "//host"):
    # neither may appear anywhere, nor any other control character.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target


#: Audit events that are the site working as it should: logged at INFO. Every
#: other event (a failed login, a refusal, a rate limit) is a WARNING.
ROUTINE_EVENTS = frozenset(
    {
        "login",
        "register",
        "password-changed",
        "account-deleted",
        "user-created",
        "comment-moderated",
    }
)


#: Audit events also kept in the database, for the admin area's audit log page.
STORED_EVENTS = frozenset(
    {
        "user-created",
        "role-changed",
        "user-disabled",
        "user-enabled",
        "password-reset",
        "password-changed",
        "account-deleted",
        "login-failed",
        "post-unpublished",
        "invite-created",
        "invite-revoked",
        "user-deleted",
        "settings-changed",
        "email-changed",
        "2fa-enabled",
        "2fa-disabled",
        "2fa-codes-renewed",
        "mail-retried",
        "comment-ban",
        "comment-unban",
    }
)


#: Stored events that come in bursts (a password guessed again and again): a repeat of
#: the same entry - same event, people, address and details - within BURST_QUIET of the
#: last one counts on that entry instead of adding another, for at most BURST_LONGEST.
#: The log file still has a line for every one.
BURST_EVENTS = frozenset({"login-failed"})
BURST_QUIET = timedelta(minutes=15)
BURST_LONGEST = timedelta(hours=1)


def audit(event: str, **fields: object) -> None:
    """Log a security event on one line; values are escaped so input cannot forge lines.
    The events admins review (STORED_EVENTS) are also written to the audit log table,
    in the transaction of the change they record when there is one."""
    from flask import current_app

    user = g.get("user")
    fields.setdefault("user_id", user["id"] if user else None)
    # The command line (an operator at the server) has no request and no address.
    fields.setdefault("ip", request.remote_addr if has_request_context() else None)
    parts = " ".join(f"{key}={_escape(value)}" for key, value in fields.items())
    level = logging.INFO if event in ROUTINE_EVENTS else logging.WARNING
    logger = current_app.logger.getChild("audit")
    logger.log(level, "security %s %s", event, parts)
    if event in STORED_EVENTS:
        _store(event, fields, logger)


def _store(event: str, fields: dict[str, object], logger: logging.Logger) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from flaskr.admin.queries import extend_burst, insert_audit
    from flaskr.db import transaction, utcnow

    rest = {k: v for k, v in fields.items() if k not in ("user_id", "target_id", "ip")}
    entry = {
        "event": event,
        "actor_id": fields.get("user_id"),
        "target_id": fields.get("target_id"),
        "ip": fields.get("ip"),
        "details": " ".join(f"{key}={_escape(value)}" for key, value in rest.items()),
    }
    try:
        with transaction():
            now = utcnow()
            if event not in BURST_EVENTS or not extend_burst(
                at=now,
                quiet_since=now - BURST_QUIET,
                started_since=now - BURST_LONGEST,
                **entry,
            ):
                insert_audit(at=now, **entry)
    except SQLAlchemyError:
        # The line above is logged already; a database that cannot take the entry
        # must not turn the action (or the refusal) into an error page.
        logger.exception("security audit-not-stored event=%s", event)


def _escape(value: object) -> str:
    text = "-" if value is None else str(value)
    # unicode_escape turns newlines and other control characters into \n, \x1b, ...
    text = text.encode("unicode_escape").decode("ascii")
    return '"' + text.replace('"', '\\"') + '"' if (" " in text or '"' in text) else text
