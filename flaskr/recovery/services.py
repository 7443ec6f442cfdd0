"""An account's email address and what it is for: confirming it, and a new password
when the old one is forgotten.

Every link sent is a random token stored only as its hash, works once, and expires.
No answer here tells a visitor whether an address belongs to an account.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, url_for
from flask_babel import gettext

from flaskr.auth import services as auth_services
from flaskr.db import transaction, utcnow
from flaskr.mail.addresses import address_key, check_address
from flaskr.mail.services import queue_message
from flaskr.recovery import queries
from flaskr.tokens import digest
from flaskr.validation import ValidationError

VERIFY = "verify-email"
RESET = "reset-password"


def _new_token(user_id: int, purpose: str, email: str, lifetime: timedelta) -> str:
    """Store a new link's hash (in the caller's transaction) and return the token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    queries.insert_token(
        user_id=user_id,
        purpose=purpose,
        token_hash=digest(token),
        email=email,
        created_at=now,
        expires_at=now + lifetime,
    )
    return token


def _spent() -> ValidationError:
    return ValidationError(gettext("This link has expired or was already used. Ask for a new one."))


def mask(address: str) -> str:
    """An address shown without giving it away: a***@example.com."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def account_address() -> dict[str, Any]:
    """The signed-in account's confirmed address and the one waiting for confirmation."""
    if g.get("user") is None:
        return {"address": None, "pending": None}
    user_id = g.user["id"]
    return {
        "address": queries.find_address(user_id),
        "pending": queries.find_pending(user_id, utcnow()),
    }


def change_address(user_id: int, password: str, new: str, language: str | None) -> str:
    """Start changing (or, with an empty address, remove) an account's address after
    checking its password. A new address is only stored once the link mailed to it is
    followed; the old one is told. Returns what was done: "removed" or "sent"."""
    auth_services.check_password(user_id, password)
    old = queries.find_address(user_id)
    if not new.strip():
        if old is None:
            raise ValidationError(gettext("Your account has no email address to remove."))
        with transaction():
            queries.update_address(user_id, None, None)
            queries.use_tokens(user_id, VERIFY, utcnow())
            queue_message(old, "email-changed", "email_changed", language=language, new=None)
        return "removed"
    address = check_address(new)
    if old is not None and address_key(old) == address_key(address):
        raise ValidationError(gettext("That is already your email address."))
    hours = current_app.config["EMAIL_CONFIRM_HOURS"]
    with transaction():
        # Only the newest link confirms: an address typed by mistake can be replaced.
        queries.use_tokens(user_id, VERIFY, utcnow())
        token = _new_token(user_id, VERIFY, address, timedelta(hours=hours))
        link = url_for("recovery.confirm_email", token=token, _external=True)
        queue_message(
            address, "verify-email", "verify_email", language=language, link=link, hours=hours
        )
        if old is not None:
            queue_message(
                old, "email-changed", "email_changed", language=language, new=mask(address)
            )
    return "sent"


def check_link(token: str, purpose: str) -> Any:
    """The row of a link that still works, or ValidationError saying it does not."""
    row = queries.find_token(digest(token[:100]), purpose, utcnow()) if token else None
    if row is None:
        raise _spent()
    return row


def confirm_address(token: str) -> Any:
    """Make the address a confirmation link was sent to its account's address; returns
    the link's row (account and address)."""
    row = check_link(token, VERIFY)
    now = utcnow()
    try:
        with transaction():
            if not queries.use_token(row.id, now):
                raise _spent()
            queries.use_tokens(row.user_id, VERIFY, now)
            queries.update_address(row.user_id, row.email, address_key(row.email))
    except sa.exc.IntegrityError:
        # The unique key: another account confirmed this address first.
        raise ValidationError(
            gettext("This address was confirmed for another account in the meantime.")
        ) from None
    return row


def request_reset(address: str) -> int | None:
    """Mail a password reset link to the enabled account whose confirmed address this
    is; returns its id, or None when there is none. The caller answers the same either
    way."""
    try:
        address = check_address(address)
    except ValidationError:
        return None
    account = queries.find_user_by_address(address_key(address))
    if account is None:
        return None
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    with transaction():
        # A newer link replaces the older ones: only the last mail's link works.
        queries.use_tokens(account.id, RESET, utcnow())
        token = _new_token(account.id, RESET, account.email, timedelta(minutes=minutes))
        link = url_for("recovery.reset_password", token=token, _external=True)
        queue_message(
            account.email,
            "password-reset",
            "password_reset",
            language=account.language,  # '' (as the browser asks): the site's
            link=link,
            minutes=minutes,
            username=account.username,
        )
    return int(account.id)


def reset_password(token: str, new: str) -> int:
    """Set a new password from a reset link; every session of the account ends and the
    link (and any older one) stops working. Returns the account's id."""
    row = check_link(token, RESET)
    # Hashed before the transaction: argon2 takes a while and holds no lock.
    password_hash = auth_services.new_password_hash(new)
    now = utcnow()
    with transaction():
        if not queries.use_token(row.id, now):
            raise _spent()
        queries.use_tokens(row.user_id, RESET, now)
        auth_services.replace_password(row.user_id, password_hash)
    return int(row.user_id)
