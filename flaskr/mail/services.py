"""Writing mail: a message rendered in its reader's language and queued in the outbox.

A message is queued in the transaction of the action that causes it, so it is
sent if and only if the action happened; the senders (sender.py) deliver it
later, and never in the request.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid
from typing import Any

from flask import Flask, current_app, g, render_template
from flask_babel import gettext, lazy_gettext

from flaskr.contexts import this_g
from flaskr.db import transaction, utcnow
from flaskr.i18n import speaking
from flaskr.mail import queries
from flaskr.mail.addresses import check_address
from flaskr.paging import Page, make_page
from flaskr.validation import ValidationError

#: What each kind of message is, in the admin area's words.
KINDS = {
    "verify-email": lazy_gettext("Address to confirm"),
    "email-changed": lazy_gettext("Address changed notice"),
    "password-reset": lazy_gettext("Password reset"),
    "comment-reply": lazy_gettext("Reply to a comment"),
    "comment-on-post": lazy_gettext("Comment on a post"),
    "comment-queue": lazy_gettext("Comment waiting for approval"),
    "comment-confirm": lazy_gettext("Guest comment to confirm"),
}
#: The outbox's states, as the admin area names them.
STATUSES = {
    "queued": lazy_gettext("waiting"),
    "sent": lazy_gettext("sent"),
    "logged": lazy_gettext("written to the log"),
    "failed": lazy_gettext("failed"),
}
#: SMTP connection security: none, STARTTLS after connecting, or TLS from the start.
SECURITY = ("none", "starttls", "tls")


def init_app(app: Flask) -> None:
    """Check the mail settings; wake this process's sender after a request queued mail."""
    from flaskr.config import ConfigError

    config = app.config
    if config["MAIL_SMTP_SECURITY"] not in SECURITY:
        raise ConfigError(
            f"MAIL_SMTP_SECURITY must be one of {', '.join(SECURITY)}, "
            f"not {config['MAIL_SMTP_SECURITY']!r}."
        )
    if config["MAIL_SMTP_HOST"] and not config["MAIL_FROM"]:
        raise ConfigError("MAIL_FROM (the sender's address) is needed when MAIL_SMTP_HOST is set.")
    if config["MAIL_FROM"]:
        try:
            check_address(config["MAIL_FROM"])
        except ValidationError:
            raise ConfigError(
                "MAIL_FROM must be a plain address (name@example.com), "
                f"not {config['MAIL_FROM']!r}."
            ) from None

    mail_log = logging.getLogger("flaskr.mail")
    if mail_log.level == logging.NOTSET:
        # Without SMTP the log is where mail goes (INFO): kept unless the operator's
        # logging config set a level.
        mail_log.setLevel(logging.INFO)

    @app.teardown_appcontext
    def _wake_sender(_exc: BaseException | None) -> None:
        if this_g().pop("mail_queued", False):
            from flaskr.mail import sender

            sender.wake(app)

    from flaskr.mail.cli import outbox_command

    app.cli.add_command(outbox_command)


def sender_address() -> str:
    """The From address: MAIL_FROM, else one at this server's name that says it is not
    for replies (only ever seen in the log without SMTP)."""
    return current_app.config["MAIL_FROM"] or "flaskr@localhost.invalid"


def queue_message(
    to: str,
    kind: str,
    template: str,
    *,
    language: str | None = None,
    unsubscribe: str | None = None,
    **context: Any,
) -> int:
    """Queue a message to `to` (already checked), rendered from mail/<template>.txt and
    .html in `language` (the site's when None or empty); returns its id. Joins the caller's
    transaction (or makes one). `unsubscribe`: the address that stops this kind of
    message with one click (List-Unsubscribe), also given to the templates."""
    assert kind in KINDS, kind  # noqa: S101 - a programming error, not input
    language = language or current_app.config["LANGUAGE"]
    with speaking(language):
        context.setdefault("site_name", current_app.config["SITE_NAME"])
        context["lang"] = language
        context["unsubscribe"] = unsubscribe
        subject = render_template(f"mail/{template}.subject.txt", **context)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    now = utcnow()
    domain = sender_address().rpartition("@")[2]
    with transaction():
        message_id = queries.insert_message(
            kind=kind,
            recipient=to,
            # One line, whatever a template or site name held.
            subject=" ".join(subject.split())[:300],
            body_text=text,
            body_html=html,
            message_id=make_msgid(domain=domain),
            created_at=now,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            list_unsubscribe=unsubscribe,
        )
    g.mail_queued = True
    return message_id


def outbox_page(status: str | None, number: int, per_page: int) -> Page:
    """A page of the outbox, newest first."""
    return make_page(
        queries.list_messages(status, page=number, per_page=per_page), number, per_page
    )


def retry(message_id: int) -> None:
    """Send a failed message again (its attempts start over)."""
    with transaction():
        if not queries.update_retry(message_id, utcnow()):
            raise ValidationError(gettext("Only a failed message can be sent again."))
