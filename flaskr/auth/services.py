"""Account rules: registration, signing in and out, password changes, roles, deletion."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from flaskr.auth import queries, usernames
from flaskr.auth.passwords import (
    check_policy,
    hash_password,
    spend_verify_time,
    verify_password,
)
from flaskr.auth.tables import USERNAME_MAX
from flaskr.db import transaction, utcnow
from flaskr.db.prepared import Row
from flaskr.i18n import check_language
from flaskr.policy import check_role
from flaskr.timezones import check_timezone
from flaskr.tokens import digest
from flaskr.validation import ValidationError, require_text

BIO_MAX = 5000


def _policy() -> dict:
    config = current_app.config
    return {"min_length": config["PASSWORD_MIN_LENGTH"], "enforce": config["PASSWORD_POLICY"]}


def register_user(username: str, password: str, *, role: str | None = None) -> int:
    """Create an account with `role` (None: the site's DEFAULT_ROLE); return its id."""
    role = check_role(role or current_app.config["DEFAULT_ROLE"])
    username = require_text(username, gettext("Username"), max_len=USERNAME_MAX)
    username = require_text(
        usernames.normalize(username), gettext("Username"), max_len=USERNAME_MAX
    )
    if username != username.strip():
        raise ValidationError(gettext("Username cannot start or end with spaces."))
    usernames.check_characters(username)
    skeleton = usernames.skeleton_key(username)
    check_policy(password, **_policy())
    password_hash = hash_password(password)
    taken = ValidationError(gettext("User %(name)s is already registered.", name=username))
    try:
        with transaction():
            existing = queries.find_taken_username(username, skeleton)
            if existing == username:
                raise taken
            if existing is not None:
                raise ValidationError(
                    gettext(
                        "The username %(name)s looks too much like an existing one. "
                        "Please choose another.",
                        name=username,
                    )
                )
            return queries.insert_user(username, skeleton, password_hash, role=role)
    except IntegrityError:
        # Two registrations of one name at once (PostgreSQL reads committed data
        # only): the unique index decides, and the loser hears the usual message.
        raise taken from None


def authenticate(username: str, password: str) -> int:
    """Return the id of the account these credentials open, or raise ValidationError."""
    if not username:
        raise ValidationError(gettext("Username is required."))
    if not password:
        raise ValidationError(gettext("Password is required."))
    account = None
    # Registration refuses a name longer than this as typed, so no account has one. The
    # whole name is looked up, never a cut-off start of it: normalized, that start could
    # be another account's name.
    if len(username) <= USERNAME_MAX:
        # Names are stored in NFKC since 0004; an older account may still have another form.
        account = queries.find_credentials(usernames.normalize(username), username)
    if account is None:
        spend_verify_time(password)  # an unknown name costs what a wrong password does
        raise ValidationError(gettext("Incorrect username."))
    # Checked whole: a cut-down password would let a longer one that starts with it in,
    # and an unknown name's dummy check hashes the whole of it too.
    ok, upgrade = verify_password(account["password"], password)
    if not ok:
        raise ValidationError(gettext("Incorrect password."))
    if account["disabled"]:
        raise ValidationError(gettext("This account is disabled."))
    if upgrade:
        with transaction():
            queries.update_password(account["id"], hash_password(password))
    return account["id"]


def start_session(user_id: int) -> str:
    """Record a new signed-in browser; return the token its cookie carries."""
    token = secrets.token_urlsafe(32)
    with transaction():
        queries.insert_session(user_id, digest(token), utcnow())
    return token


def session_user(token: str) -> Row | None:
    """The user a session token belongs to, if the session is still valid."""
    max_age = timedelta(days=current_app.config["SESSION_MAX_DAYS"])
    return queries.find_session_user(digest(token), utcnow() - max_age)


def end_session(token: str) -> None:
    """Sign this browser out on the server, so its cookie no longer works."""
    with transaction():
        queries.delete_session(digest(token))


def check_password(user_id: int, password: str) -> None:
    """Raise ValidationError unless this is the account's password."""
    stored = queries.find_password_hash(user_id)
    if stored is None or not verify_password(stored, password)[0]:
        raise ValidationError(gettext("Incorrect password."))


def change_password(user_id: int, current: str, new: str, keep_token: str | None) -> None:
    """Replace a password after checking the current one; other sessions end."""
    check_password(user_id, current)
    check_policy(new, **_policy())
    with transaction():
        queries.update_password(user_id, hash_password(new))
        queries.delete_sessions(user_id, keep_hash=keep_token and digest(keep_token))


def disable_user(user_id: int) -> None:
    """Stop an account from signing in, and end all its sessions."""
    with transaction():
        queries.update_disabled(user_id, True)
        queries.delete_sessions(user_id)


def enable_user(user_id: int) -> None:
    """Let a disabled account sign in again."""
    with transaction():
        queries.update_disabled(user_id, False)


def set_role(user_id: int, role: str) -> None:
    """Give an account another role (policy.ROLES); it applies from its next request."""
    role = check_role(role)
    with transaction():
        queries.update_role(user_id, role)


def reset_password(user_id: int, new: str) -> None:
    """Set a new password without the old one (an operator's reset); every session ends."""
    replace_password(user_id, new_password_hash(new))


def new_password_hash(new: str) -> str:
    """The hash to store for a new password, once it meets the password rules."""
    check_policy(new, **_policy())
    return hash_password(new)


def replace_password(user_id: int, password_hash: str) -> None:
    """Store a new password hash and end every session of the account (joins the
    caller's transaction)."""
    with transaction():
        queries.update_password(user_id, password_hash)
        queries.delete_sessions(user_id)


def find_account(username: str) -> Row | None:
    """An account's id, username, role and disabled flag, by its username as typed."""
    if len(username) > USERNAME_MAX:
        return None
    return queries.find_account(usernames.normalize(username)) or queries.find_account(username)


def delete_account(user_id: int, password: str) -> None:
    """Delete an account and everything it wrote, after checking its password."""
    # Imported here: pictures' views need auth's, which need this module.
    from flaskr.media import services as media_services

    check_password(user_id, password)
    with transaction():
        files = media_services.owner_files(user_id)
        queries.delete_user(user_id)
    media_services.remove_files(files)  # once no row names them


def update_profile(user_id: int, bio: str, timezone: str, language: str = "") -> None:
    """Save an author's bio (Markdown), the time zone they write and read times in, and
    the language of their pages ('' : as their browser asks)."""
    bio = require_text(bio, gettext("Bio"), max_len=BIO_MAX, required=False, multiline=True)
    timezone = check_timezone(require_text(timezone or "UTC", gettext("Time zone"), max_len=64))
    try:
        language = check_language(language)
    except ValueError:
        raise ValidationError(gettext("Choose a language from the list.")) from None
    with transaction():
        queries.update_profile(user_id, bio=bio, timezone=timezone, language=language)
