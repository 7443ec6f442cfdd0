"""Email addresses as people type them: checked before anything is stored or sent."""

from __future__ import annotations

from flask_babel import gettext

from flaskr.validation import ValidationError, has_control_characters

#: RFC 5321's limits: the whole path, and its local part.
MAX_LENGTH = 254
MAX_LOCAL = 64
# Characters a plain address never needs; refusing them keeps every header we write
# a single, unquoted address (no display name, comment or second address smuggled in).
_REFUSED = set('<>()[]\\,;:"')


def check_address(value: str) -> str:
    """The address, tidied (surrounding spaces gone, the domain in lower case), or
    ValidationError saying what a valid one looks like."""
    value = value.strip()
    if not value:
        raise ValidationError(gettext("Email address is required."))
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        len(value) > MAX_LENGTH
        or has_control_characters(value)
        or any(ch.isspace() or ch in _REFUSED for ch in value)
        or not local
        or "@" in local
        or len(local) > MAX_LOCAL
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or len(labels) < 2
        or any(not label or label.startswith("-") or label.endswith("-") for label in labels)
    ):
        raise ValidationError(gettext("Enter an email address such as name@example.com."))
    return f"{local}@{domain.lower()}"


def address_key(address: str) -> str:
    """What two spellings of one address share: no two accounts may have the same."""
    return address.lower()
