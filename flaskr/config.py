"""Settings: defaults, then instance/config.py, then FLASKR_* variables, then test_config."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from flaskr import filemodes

#: Every setting flaskr reads, with its default. The README's table mirrors this.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated and kept in the instance folder when unset
    "DATABASE": None,  # SQLite file; defaults to instance/flaskr.sqlite
    "DATABASE_URL": None,  # e.g. postgresql+psycopg://user@host/db; wins over DATABASE
    "AUTO_MIGRATE": True,  # apply pending migrations before the first request
    # A database that stops answering gives 503s within seconds, not hung workers:
    "DATABASE_CONNECT_TIMEOUT": 5,  # PostgreSQL: seconds to open a connection (at least 2)
    "DATABASE_STATEMENT_TIMEOUT": 10,  # seconds a statement may run or wait for locks (0: none)
    "DATABASE_POOL_TIMEOUT": 5,  # seconds a request waits for a free pooled connection
    "DATABASE_LISTEN": True,  # PostgreSQL: learn of changes by LISTEN/NOTIFY (off behind PgBouncer)
    "SQLITE_SYNCHRONOUS": "FULL",  # FULL: no acknowledged write is lost; NORMAL: faster, see README
    "POSTS_PER_PAGE": 10,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "TRUSTED_HOSTS": None,  # list of host names; None accepts any Host header
    "REDIS_URL": None,  # shared rate-limit storage for multi-server deployments
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_ACCOUNT": "20 per hour",
    "RATELIMIT_WRITE": "60 per minute;600 per hour",  # post saves and previews, per user
    "RATELIMIT_ADMIN": "60 per minute;1000 per hour",  # admin actions, per admin
    "AUTOSAVE_SECONDS": 15,  # the editor saves a draft by itself this often (0: never)
    "DEVICE_COOKIE_DAYS": 365,  # a browser that signed in is a known device this long
    "PASSWORD_MIN_LENGTH": 8,
    "SESSION_IDLE_MINUTES": 60 * 24 * 7,
    "SESSION_MAX_DAYS": 30,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PREFERRED_URL_SCHEME": "http",
    "PROXY_FIX": None,  # e.g. {"x_for": 1, "x_proto": 1, "x_host": 1}
    "FEED_FULL_CONTENT": True,
    "FEED_ITEMS": 20,
    "TRASH_DAYS": 30,  # deleted posts can be restored this long (0: deleted for good at once)
    "SEARCH_CANDIDATES": 500,  # search ranks among at most this many newest matches
    "SEARCH_RANK_MAX_MATCHES": 200,  # more matching posts than this: newest first
    "PAGE_CACHE_SECONDS": 60,  # keep anonymous pages this long at most (0: no page cache)
    "SITE_NAME": "Flaskr",
    "SITE_DESCRIPTION": "A blog",
    "LANGUAGE": "en",  # the site's language: pages, feeds, posts that name none (en, de)
    "TIMEZONE": "UTC",  # IANA zone of the dates anonymous readers see
    "REGISTRATION": "open",  # who may register: open, invite (with an invitation link), closed
    "DEFAULT_ROLE": "author",  # new accounts' role: reader or author (editors are made)
    "TWO_FACTOR": "optional",  # optional, or staff: editors and admins must use a second factor
    # Mail: without MAIL_SMTP_HOST it goes to the log and `flaskr outbox`.
    "MAIL_SMTP_HOST": None,
    "MAIL_SMTP_PORT": 587,
    "MAIL_SMTP_SECURITY": "starttls",  # none, starttls, or tls (from the start, port 465)
    "MAIL_SMTP_USER": None,
    "MAIL_SMTP_PASSWORD": None,
    "MAIL_SMTP_TIMEOUT": 10,  # seconds
    "MAIL_FROM": None,  # the sender's address; required with MAIL_SMTP_HOST
    "MAIL_SENDER": True,  # `flaskr serve` workers deliver the outbox
    "MAIL_POLL_SECONDS": 5,  # how often a worker's sender looks for due mail
    "MAIL_MAX_ATTEMPTS": 8,  # then the message is marked failed
    "PASSWORD_RESET_MINUTES": 60,  # how long a password reset link works
    "EMAIL_CONFIRM_HOURS": 48,  # how long a link confirming an address works
    "RATELIMIT_PASSWORD_RESET": "5 per hour",  # reset requests per IP and per address
    # Pictures (see the README's "Pictures"): limits, widths made, and where files live.
    "MEDIA_MAX_BYTES": 20_000_000,  # one upload at most (larger: 413)
    "MEDIA_MAX_PIXELS": 40_000_000,  # one picture at most (a bigger one is refused undecoded)
    "MEDIA_WIDTHS": (480, 960, 1600),  # widths made for srcset; never wider than the upload
    "MEDIA_UPLOADS_PER_HOUR": 60,  # per account
    "MEDIA_QUOTA_BYTES": 500_000_000,  # everything one account's uploads take (0: no limit)
    "MEDIA_STORE": "local",  # local (MEDIA_FOLDER) or s3 (the MEDIA_S3_* settings)
    "MEDIA_FOLDER": None,  # defaults to instance/media
    "MEDIA_S3_ENDPOINT_URL": None,  # any S3-compatible service; None: AWS
    "MEDIA_S3_BUCKET": None,
    "MEDIA_S3_REGION": None,
    "MEDIA_S3_ACCESS_KEY_ID": None,  # None: boto3's usual places (environment, profile, role)
    "MEDIA_S3_SECRET_ACCESS_KEY": None,
    "MEDIA_S3_PUBLIC_URL": None,  # where readers' browsers fetch public files, e.g. https://cdn.example.org
    # Comments (see the README's "Comments"): when they close, what is held for a moderator.
    "COMMENTS_PER_PAGE": 50,  # comments on one page of a thread, replies counted
    "COMMENTS_EDIT_MINUTES": 15,  # how long a commenter may edit a comment
    "COMMENTS_CLOSE_AFTER_DAYS": 0,  # posts older than this take no new comments (0: never)
    "COMMENTS_GUESTS": False,  # visitors comment under a name and a confirmed address
    "COMMENTS_HOLD_FIRST": True,  # hold an account's comments until one has been approved
    "COMMENTS_MAX_LINKS": 2,  # hold a comment with more links than this
    "COMMENTS_BANNED_WORDS": "",  # comma-separated words or phrases that hold a comment
    "COMMENTS_NEW_ACCOUNT_HOURS": 0,  # hold comments from accounts younger than this (0: off)
    "COMMENTS_MIN_SECONDS": 3,  # a comment sent sooner after its form was shown is a bot's
    "COMMENTS_DUPLICATE_MINUTES": 60,  # the same text twice from one account within this: refused
    "RATELIMIT_COMMENT": "5 per minute;100 per day",  # comments per account
    "RATELIMIT_COMMENT_IP": "10 per minute;300 per day",  # comments per IP address
    "SHUTDOWN_GRACE_SECONDS": 20,  # `flaskr serve`: how long SIGTERM lets requests finish
}

#: Settings that protect production but get in the tutorial's way: off under
#: TESTING unless a test (or config file) sets them explicitly.
TESTING_RELAXED = ("WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "PASSWORD_POLICY")

WEAK_SECRETS = {"", "dev", "development", "secret", "changeme", "change-me", "test", "flask"}
MIN_SECRET_LENGTH = 24


class ConfigError(RuntimeError):
    """A setting that makes the app unsafe or unable to start."""


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Fill app.config from defaults, instance/config.py, FLASKR_* variables and test_config."""
    # Flask's own defaults would hide whether anyone chose a value; see the end.
    for key in ("SESSION_COOKIE_SECURE", "PERMANENT_SESSION_LIFETIME"):
        app.config.pop(key, None)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FLASKR")
    explicit = set(test_config or ()) | _explicit_keys(app)
    if test_config:
        app.config.from_mapping(test_config)
    for key in TESTING_RELAXED:
        if key not in explicit:
            app.config[key] = not app.config["TESTING"]
    hosts = app.config["TRUSTED_HOSTS"]
    if isinstance(hosts, str):
        # FLASKR_TRUSTED_HOSTS=blog.example,www.blog.example (or a JSON list).
        app.config["TRUSTED_HOSTS"] = [h.strip() for h in hosts.split(",") if h.strip()]
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "flaskr.sqlite")
    app.config["SECRET_KEY"] = _secret_key(app)
    # What the operator chose (the admin area's settings page leaves these alone).
    app.extensions["flaskr.explicit_settings"] = explicit | {
        key for key, value in DEFAULTS.items() if app.config.get(key) != value
    }
    # The CLI resets app.debug from FLASK_DEBUG after this; `flaskr check` must
    # still see what the settings asked for (gunicorn workers will use that).
    app.extensions["flaskr.debug_setting"] = bool(app.config.get("DEBUG"))
    # Secure cookies follow the scheme unless set: behind HTTPS they must be on.
    app.config.setdefault("SESSION_COOKIE_SECURE", app.config["PREFERRED_URL_SCHEME"] == "https")
    # The cookie lives no longer than the server-side session it carries.
    app.config.setdefault(
        "PERMANENT_SESSION_LIFETIME", timedelta(days=app.config["SESSION_MAX_DAYS"])
    )


def _explicit_keys(app: Flask) -> set[str]:
    """Keys set by instance/config.py or the environment, as opposed to defaults."""
    keys = {k[len("FLASKR_") :] for k in os.environ if k.startswith("FLASKR_")}
    return keys | {k for k in TESTING_RELAXED if k in app.config}


def _secret_key(app: Flask) -> str:
    """Return the configured key, or one generated once and kept in the instance folder."""
    key = app.config.get("SECRET_KEY")
    if key is not None:
        key = str(key)
        if not app.config["TESTING"] and (
            key.lower() in WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH
        ):
            raise ConfigError(
                "SECRET_KEY is too weak: use at least "
                f"{MIN_SECRET_LENGTH} random characters, or unset it and flaskr "
                "will generate one in the instance folder."
            )
        return key
    if app.config["TESTING"]:
        # Tests must not write into the instance folder; a fresh key per app is fine.
        return secrets.token_hex(32)
    return _instance_secret(app.instance_path)


def _instance_secret(instance_path: str) -> str:
    """Read the instance folder's secret key, creating it (mode 0600) on first start."""
    path = os.path.join(instance_path, "secret_key")
    filemodes.private_folder(instance_path)
    if not os.path.exists(path):
        # Several workers may start at once: each writes a complete key to a
        # private temporary file, and link() publishes exactly one of them.
        fd, draft = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    filemodes.tighten(path)
    with open(path, encoding="ascii") as f:
        key = f.read().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{path} holds a key that is too short; delete it to regenerate.")
    return key
