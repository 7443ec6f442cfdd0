"""Password hashing (argon2id), legacy hashes, and the password policy."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext
from werkzeug.security import check_password_hash

from flaskr.validation import ValidationError

PASSWORD_MAX = 1024
_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


def hash_password(password: str) -> str:
    """A new argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, bool]:
    """Check a password against its stored hash: (matches, hash should be upgraded)."""
    if stored.startswith("$argon2"):
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, _hasher.check_needs_rehash(stored)
    # Hashes written by the tutorial's code (werkzeug pbkdf2 or scrypt).
    try:
        ok = check_password_hash(stored, password)
    except (ValueError, TypeError):
        ok = False
    return ok, ok


@cache
def _dummy_hash() -> str:
    return _hasher.hash("flaskr: no such user")


def spend_verify_time(password: str) -> None:
    """Do the same hash work as a real check, for a username that does not exist."""
    verify_password(_dummy_hash(), password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords too common to allow (lower-case)."""
    text = resources.files("flaskr.auth").joinpath("common-passwords.txt").read_text("utf8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_policy(password: str, *, min_length: int, enforce: bool) -> None:
    """Raise ValidationError if the password may not be used."""
    if not password:
        raise ValidationError(gettext("Password is required."))
    if len(password) > PASSWORD_MAX:
        raise ValidationError(
            gettext("Password is too long (at most %(count)d characters).", count=PASSWORD_MAX)
        )
    if "\x00" in password:
        raise ValidationError(gettext("Password contains characters that are not allowed."))
    if not enforce:
        return
    if len(password) < min_length:
        raise ValidationError(
            gettext("Password must be at least %(count)d characters long.", count=min_length)
        )
    if password.lower() in common_passwords():
        raise ValidationError(
            gettext(
                "That password is one of the most common passwords; "
                "choose one that is harder to guess."
            )
        )
