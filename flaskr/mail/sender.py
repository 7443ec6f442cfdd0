"""Delivering the outbox: over SMTP, or to the log when no SMTP server is set.

Every serving process runs one sender thread: `flaskr serve` workers from the
start, any other server from the first message it queues (MAIL_SENDER=False
turns them off); `flaskr outbox --send` delivers once. Senders on any number
of processes and servers share the outbox safely: each claims a few due
messages for a while (queries.claim_due) and records the outcome only while its
claim holds. A failed attempt waits
longer each time (1, 2, 4 ... minutes, at most an hour) until MAIL_MAX_ATTEMPTS.
A sender that dies mid-message leaves it to be claimed again when its claim
runs out: a message may then arrive twice, never not at all.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from typing import Any

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from flaskr.db import transaction, utcnow
from flaskr.mail import queries
from flaskr.mail.services import sender_address

log = logging.getLogger("flaskr.mail")

#: How long a sender may take over one batch before others may claim its messages.
CLAIM_SECONDS = 300
#: Messages one sender claims at a time.
BATCH = 10
#: The wait after the first failure; it doubles each time, up to MAX_BACKOFF.
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def _from() -> str:
    """The From header: the site's name (on one line, whatever was typed) and address."""
    return formataddr((" ".join(current_app.config["SITE_NAME"].split()), sender_address()))


def build_message(row: Any) -> EmailMessage:
    """The MIME message for an outbox row: plain text with an HTML alternative."""
    message = EmailMessage(policy=SMTP)
    # The policy refuses a header value with a line break: nothing a user typed
    # (a site name, an address) can add a header of its own.
    message["From"] = _from()
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = row["message_id"]
    message["Auto-Submitted"] = "auto-generated"
    if row.get("list_unsubscribe"):
        # RFC 8058: a mail program may POST "List-Unsubscribe=One-Click" to the
        # address to stop this kind of message, without the reader logging in.
        message["List-Unsubscribe"] = f"<{row['list_unsubscribe']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    return message


def readable(row: Any) -> str:
    """A message as a person reads it: its headers, then its plain text (the log's and
    `flaskr outbox --show`'s form, undecoded by nothing)."""
    return (
        f"From: {_from()}\n"
        f"To: {row['recipient']}\nSubject: {row['subject']}\n"
        f"Message-ID: {row['message_id']}\n\n{row['body_text']}"
    )


def _smtp(config: Any) -> smtplib.SMTP:
    host, port = config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"]
    timeout = config["MAIL_SMTP_TIMEOUT"]
    context = ssl.create_default_context()
    if config["MAIL_SMTP_SECURITY"] == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if config["MAIL_SMTP_SECURITY"] == "starttls":
        try:
            # Raises when the server offers no STARTTLS: never sent in the clear instead.
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _transport(rows: list[Any]) -> dict[int, str | None]:
    """Send each row; {id: None when sent, else the error}."""
    config = current_app.config
    outcome: dict[int, str | None] = {}
    if not config["MAIL_SMTP_HOST"]:
        for row in rows:
            log.info("mail (no SMTP server set) %s\n%s", row["kind"], readable(row))
            outcome[row["id"]] = None
        return outcome
    try:
        smtp = _smtp(config)
    except (OSError, smtplib.SMTPException) as error:
        return {row["id"]: _describe(error) for row in rows}
    try:
        if config["MAIL_SMTP_USER"]:
            smtp.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"] or "")
        for row in rows:
            try:
                smtp.send_message(build_message(row))
            except (OSError, smtplib.SMTPException) as error:
                outcome[row["id"]] = _describe(error)
            else:
                outcome[row["id"]] = None
    except (OSError, smtplib.SMTPException) as error:
        for row in rows:
            outcome.setdefault(row["id"], _describe(error))
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return outcome


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def deliver_due() -> int:
    """Send every message that is due now, in batches; how many were handled. Needs an
    app context."""
    config = current_app.config
    handled = 0
    while True:
        now = utcnow()
        with transaction():
            rows = queries.claim_due(now, now + timedelta(seconds=CLAIM_SECONDS), BATCH)
        if not rows:
            return handled
        outcome = _transport(rows)
        logged = not config["MAIL_SMTP_HOST"]
        with transaction():
            for row in rows:
                error = outcome[row["id"]]
                _record(row, error, logged=logged, max_attempts=config["MAIL_MAX_ATTEMPTS"])
        handled += len(rows)


def _record(row: Any, error: str | None, *, logged: bool, max_attempts: int) -> None:
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"status": "logged" if logged else "sent", "sent_at": now}
        if not logged:
            # Delivered: the body (a reset link, say) need not stay in the database.
            values |= {"body_text": "", "body_html": ""}
        queries.update_outcome(row["id"], row["attempts"], last_error=None, **values)
        log.info("mail %s id=%s %s", values["status"], row["id"], row["kind"])
        return
    gave_up = row["attempts"] >= max_attempts
    queries.update_outcome(
        row["id"],
        row["attempts"],
        status="failed" if gave_up else "queued",
        next_attempt_at=now + _backoff(row["attempts"]),
        last_error=error,
    )
    log.warning(
        "mail %s id=%s attempt=%s %s",
        "failed" if gave_up else "retry-later",
        row["id"],
        row["attempts"],
        error,
    )


# --- the sender thread of a serving process ---------------------------------------


class _Sender:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.event = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="flaskr-mail", daemon=True)

    def run(self) -> None:
        poll = self.app.config["MAIL_POLL_SECONDS"]
        while True:
            self.event.wait(poll)
            self.event.clear()
            if self.stopping.is_set():
                return
            try:
                with self.app.app_context():
                    deliver_due()
            except SQLAlchemyError:
                # The database is away: the messages wait there; try again next round.
                log.warning("mail sender: database unavailable, retrying", exc_info=True)
            except Exception:
                log.exception("mail sender: unexpected error, retrying")


def start(app: Flask) -> None:
    """Run a sender thread in this process (a serving worker) until it exits."""
    if not app.config["MAIL_SENDER"] or "flaskr.mail_sender" in app.extensions:
        return
    sender = _Sender(app)
    app.extensions["flaskr.mail_sender"] = sender
    sender.thread.start()
    sender.event.set()  # what waited while no server ran goes out now


def stop(app: Flask, timeout: float = 30.0) -> None:
    """Stop this process's sender after the batch it is sending (if it runs one)."""
    sender = app.extensions.pop("flaskr.mail_sender", None)
    if sender is not None:
        sender.stopping.set()
        sender.event.set()
        sender.thread.join(timeout)


def wake(app: Flask) -> None:
    """Tell this process's sender that mail was queued, starting it on first use (a
    server other than `flaskr serve`: `flask run`, waitress)."""
    sender = app.extensions.get("flaskr.mail_sender")
    if sender is None:
        start(app)
    else:
        sender.event.set()
