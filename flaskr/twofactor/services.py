"""Two-factor login: turning it on and off, checking a code at sign-in, recovery codes.

A TOTP code (RFC 6238: 6 digits, a new one every 30 seconds) is accepted for the
step before, the one of, and the step after the server's clock, and only for a step
later than the last one accepted for the account, so a code seen over a shoulder or
in a proxy log cannot be used again. Recovery codes are random, shown once, stored as
their sha256, and each works once.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext
from markupsafe import Markup

from flaskr.auth import services as auth_services
from flaskr.db import transaction, utcnow
from flaskr.policy import second_factor_required
from flaskr.tokens import digest
from flaskr.twofactor import queries
from flaskr.validation import ValidationError

STEP_SECONDS = 30
RECOVERY_CODES = 10
#: Recovery codes are 10 base32 characters (50 random bits), shown as xxxxx-xxxxx.
_CODE_LENGTH = 10


def new_secret() -> str:
    """A random secret for an authenticator app (160 bits, base32)."""
    return pyotp.random_base32()


def setup_uri(secret: str, username: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=username, issuer_name=current_app.config["SITE_NAME"]
    )


def qr_code(uri: str) -> Markup:
    """The address as a QR code: an inline SVG (no image request; the CSP stays strict)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=gettext("QR code for your authenticator app")
    )
    # segno writes the SVG (it escapes the title); nothing in it comes from a user.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704  # nosec B704


def is_enabled(user_id: int) -> bool:
    """True when the account signs in with a second factor."""
    return queries.find_totp(user_id) is not None


def is_required(user: dict | None) -> bool:
    """True when this site requires a second factor of this user (TWO_FACTOR)."""
    return second_factor_required(user, current_app.config["TWO_FACTOR"])


def _step_of(secret: str, code: str, now: float) -> int | None:
    """The 30-second step (one either side of now) whose code this is, or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def wrong_code() -> ValidationError:
    return ValidationError(
        gettext("That code is not right. Type the 6 digits your app shows now, or a recovery code.")
    )


def _normalize(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash(code: str) -> str:
    return digest(_normalize(code))


def _new_codes(user_id: int) -> list[str]:
    """Store ten new recovery codes (in the caller's transaction); return them."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(7)).decode().lower()[:_CODE_LENGTH]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    queries.replace_codes(user_id, [_hash(code) for code in codes])
    return codes


def enable(user_id: int, password: str, secret: str, code: str) -> list[str]:
    """Turn two-factor login on with the secret the app was given, once a code from the
    app proves it has it; returns the recovery codes (shown once)."""
    auth_services.check_password(user_id, password)
    step = _step_of(secret, code, time.time())
    if step is None:
        raise ValidationError(
            gettext("That code is not right. Type the 6 digits your app shows now.")
        )
    with transaction():
        if queries.find_totp(user_id) is not None:
            raise ValidationError(gettext("Two-factor login is already on."))
        queries.insert_totp(user_id, secret, utcnow(), step)
        return _new_codes(user_id)


def verify(user_id: int, code: str) -> str | None:
    """Check a code given at sign-in: "totp" or "recovery-code" when it is right (and
    now spent), None when it is not."""
    row = queries.find_totp(user_id)
    if row is None or not code.strip():
        return None
    step = _step_of(row["secret"], code, time.time())
    if step is not None:
        with transaction():
            return "totp" if queries.advance_step(user_id, step) else None
    if len(_normalize(code)) == _CODE_LENGTH:
        with transaction():
            if queries.use_code(user_id, _hash(code), utcnow()):
                return "recovery-code"
    return None


def disable(user_id: int, password: str, code: str, *, required: bool) -> None:
    """Turn two-factor login off, after the password and a code."""
    if required:
        raise ValidationError(
            gettext("This site requires two-factor login for your role: it stays on.")
        )
    auth_services.check_password(user_id, password)
    if verify(user_id, code) is None:
        raise wrong_code()
    with transaction():
        queries.delete_totp(user_id)


def renew_codes(user_id: int, password: str) -> list[str]:
    """Replace the account's recovery codes after its password; returns the new ones."""
    auth_services.check_password(user_id, password)
    if not is_enabled(user_id):
        raise ValidationError(gettext("Two-factor login is off."))
    with transaction():
        return _new_codes(user_id)


def codes_left(user_id: int) -> int:
    """How many unused recovery codes the account has."""
    return queries.count_unused_codes(user_id)


def reset(user_id: int) -> bool:
    """Turn two-factor login off without a code (an operator's, for a lost phone);
    False when it was off."""
    with transaction():
        if queries.find_totp(user_id) is None:
            return False
        queries.delete_totp(user_id)
    return True
