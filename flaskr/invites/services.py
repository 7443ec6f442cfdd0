"""Who may register: the REGISTRATION setting, and invitations that let someone in."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext, lazy_gettext

from flaskr.db import transaction, utcnow
from flaskr.invites import queries
from flaskr.paging import Page, make_page
from flaskr.policy import ROLES
from flaskr.tokens import digest
from flaskr.validation import ValidationError

#: REGISTRATION's values: anyone may register; only with an invitation; nobody.
MODES = ("open", "invite", "closed")
#: The longest an invitation may stay valid, in days.
MAX_DAYS = 30


def _unusable() -> ValidationError:
    return ValidationError(
        gettext(
            "This invitation link cannot be used: it has expired, was used already or was "
            "withdrawn. Ask for a new one."
        )
    )


#: What pages call each REGISTRATION value.
MODE_NAMES = {
    "open": lazy_gettext("open to anyone"),
    "invite": lazy_gettext("by invitation only"),
    "closed": lazy_gettext("closed"),
}


def init_app(app: Flask) -> None:
    """Check the REGISTRATION setting; give templates `registration_name()`."""
    from flaskr.config import ConfigError

    if app.config["REGISTRATION"] not in MODES:
        raise ConfigError(
            f"REGISTRATION must be one of {', '.join(MODES)}, not {app.config['REGISTRATION']!r}."
        )
    app.add_template_global(lambda value: str(MODE_NAMES[value]), "registration_name")


def mode() -> str:
    """The site's REGISTRATION setting."""
    return str(current_app.config["REGISTRATION"])


def check_invite(token: str) -> Any:
    """The usable invitation behind a link's token, else ValidationError."""
    found = queries.find_usable(digest(token), utcnow()) if token and len(token) <= 100 else None
    if found is None:
        raise _unusable()
    return found


def register(username: str, password: str, token: str) -> int:
    """Create an account from the register page (with an invitation's token, or '');
    return its id. The page checks first whether this visitor may register at all;
    this is the rule itself, so no other caller skips it."""
    from flaskr.auth.services import register_user

    if mode() == "closed" or (mode() == "invite" and not token):
        raise ValidationError(gettext("Registration is closed on this site."))
    if not token:
        return register_user(username, password)
    found = check_invite(token)
    # One transaction: an account is made only if the invitation is spent on it.
    with transaction():
        user_id = register_user(username, password, role=found["role"])
        if not queries.use(found["id"], user_id, utcnow()):
            raise _unusable()
    return user_id


def create(created_by: int, role: str, days: str) -> str:
    """Make an invitation; return its token (shown once: only its hash is kept)."""
    if role and role not in ROLES:
        raise ValidationError(gettext("Choose a role from the list."))
    try:
        valid_days = int(days)
    except ValueError:
        valid_days = 0
    if not 1 <= valid_days <= MAX_DAYS:
        raise ValidationError(
            gettext("An invitation is valid for 1 to %(days)d days.", days=MAX_DAYS)
        )
    token = secrets.token_urlsafe(24)
    now = utcnow()
    with transaction():
        queries.insert_invite(
            token_hash=digest(token),
            role=role or None,
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    return token


def revoke(invite_id: int) -> bool:
    """Withdraw an unused invitation; False if it was used or withdrawn already."""
    with transaction():
        return queries.revoke(invite_id, utcnow())


def page(number: int, per_page: int) -> Page:
    """A page of invitations, newest first, each with its state."""
    now = utcnow()
    rows = queries.list_invites(page=number, per_page=per_page)
    return make_page([{**row, "state": _state(row, now)} for row in rows], number, per_page)


def _state(row: Any, now: Any) -> str:
    if row["used_at"] is not None:
        return "used"
    if row["revoked_at"] is not None:
        return "revoked"
    return "expired" if row["expires_at"] <= now else "open"
