"""Device cookies: a browser that signed in to an account before keeps its own login budget.

OWASP's defence against lockout: failed logins for an account from unknown
browsers share one budget, which a stranger can spend; a browser that proves an
earlier successful login to that account (a signed cookie) has a budget of its own.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

COOKIE = "flaskr_device"
#: Accounts one browser is remembered for (the most recent sign-ins).
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="flaskr.device-cookie")


def _entries() -> list[tuple[str, str, int]]:
    """The (account key, nonce, issued) entries of this browser's cookie that are still valid."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        entries = _serializer().loads(raw)
    except BadSignature:
        return []
    oldest = time.time() - current_app.config["DEVICE_COOKIE_DAYS"] * 86400
    if not isinstance(entries, list):
        return []
    return [
        (account, nonce, issued)
        for account, nonce, issued in (e for e in entries if isinstance(e, list) and len(e) == 3)
        if isinstance(account, str) and isinstance(nonce, str) and isinstance(issued, int)
        if issued >= oldest
    ]


def device_for(account: str) -> str | None:
    """This browser's device id for the account, if it signed in to it before."""
    return next((nonce for key, nonce, _ in _entries() if key == account), None)


def remember(response: Response, account: str) -> None:
    """After a successful sign-in: mark this browser as a known device of the account."""
    others = [list(entry) for entry in _entries() if entry[0] != account]
    entries = [[account, secrets.token_urlsafe(12), int(time.time())], *others]
    config = current_app.config
    response.set_cookie(
        COOKIE,
        _serializer().dumps(entries[:MAX_ACCOUNTS]),
        max_age=config["DEVICE_COOKIE_DAYS"] * 86400,
        path="/auth/",
        secure=current_app.session_interface.get_cookie_secure(current_app),
        httponly=True,
        samesite="Lax",
    )
