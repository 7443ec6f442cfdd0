"""The rules every text input obeys, and the error a user sees when one is broken."""

import re

from flask_babel import gettext

# Characters a person never types: the controls below 0x20 except tab, newline
# and carriage return, DEL and the C1 range; lone surrogates (JSON's "\ud800"
# decodes to one, and no UTF-8 text can hold it); and the 66 Unicode
# non-characters (U+FDD0-U+FDEF and the last two code points of every plane),
# which XML forbids or discourages: one of them would break every feed.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Those characters, and every one from U+1FFFE on (of which only the last two of
# each plane are refused): one range, where 32 single astral code points would
# make the search ten times slower.
_CANDIDATE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U0001fffe-\U0010ffff]"
)
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")


class ValidationError(ValueError):
    """Input that breaks a rule; the message is shown to the user as is."""


def _refused(char: str) -> bool:
    code = ord(char)
    return code < 0x1FFFE or code & 0xFFFE == 0xFFFE


def has_control_characters(value: str) -> bool:
    """True when the text holds a control character (not tab/newline) or a non-character."""
    if value.isascii():
        return _ASCII_CONTROL.search(value) is not None
    return any(_refused(match[0]) for match in _CANDIDATE.finditer(value))


def replace_control_characters(value: str) -> str:
    """The text with every character has_control_characters() refuses turned into U+FFFD."""
    if value.isascii():
        return _ASCII_CONTROL.sub("\ufffd", value)
    return _CANDIDATE.sub(lambda match: "\ufffd" if _refused(match[0]) else match[0], value)


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
        raise ValidationError(gettext("%(field)s is required.", field=label))
    if has_control_characters(value) or (not multiline and _LINE_BREAKS.search(value)):
        raise ValidationError(
            gettext("%(field)s contains characters that are not allowed.", field=label)
        )
    if len(value) > max_len:
        raise ValidationError(
            gettext(
                "%(field)s is too long (at most %(count)d characters).", field=label, count=max_len
            )
        )
    return value
