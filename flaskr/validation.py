"""The rules every text input obeys, and the error a user sees when one is broken."""

import re

# Control characters a person never types: everything below 0x20 except tab,
# newline and carriage return, plus DEL and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")


class ValidationError(ValueError):
    """Input that breaks a rule; the message is shown to the user as is."""


def has_control_characters(value: str) -> bool:
    """True when the text holds a NUL or another control character (not tab/newline)."""
    return bool(_CONTROL.search(value))


def require_text(
    value: str | None,
    label: str,
    *,
    max_len: int,
    required: bool = True,
    multiline: bool = False,
) -> str:
    """Return the text if it obeys the rules for a field, else raise ValidationError."""
    value = value or ""
    if required and not value.strip():
        raise ValidationError(f"{label} is required.")
    if has_control_characters(value) or (not multiline and _LINE_BREAKS.search(value)):
        raise ValidationError(f"{label} contains characters that are not allowed.")
    if len(value) > max_len:
        raise ValidationError(f"{label} is too long (at most {max_len} characters).")
    return value
