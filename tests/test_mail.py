"""The outbox and its senders, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
import smtp_inbox
import sqlalchemy as sa

from flaskr.config import ConfigError
from flaskr.db import transaction, utcnow
from flaskr.mail import queries, sender
from flaskr.mail.services import queue_message
from flaskr.mail.tables import outbox

FROM = "blog@example.com"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free loopback port (no STARTTLS offered)."""
    with smtp_inbox.smtp_server() as inbox:
        yield inbox.port, inbox


def _free_port() -> int:
    return smtp_inbox.free_port()


def _smtp_app(make_app, port, **settings):
    return make_app(
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=port,
        MAIL_SMTP_SECURITY="none",
        MAIL_FROM=FROM,
        **settings,
    )


def _queue(app, to="reader@example.com", **context):
    with app.test_request_context():
        return queue_message(
            to,
            "password-reset",
            "password_reset",
            link="http://localhost/auth/reset/abc",
            minutes=60,
            username=context.pop("username", "alice"),
        )


def _row(app, message_id):
    with app.app_context():
        return queries.find_message(message_id)


def _deliver(app) -> int:
    with app.app_context():
        return sender.deliver_due()


def _make_due(app):
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(outbox).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_a_message_goes_out_over_smtp_and_its_body_is_not_kept(make_app, smtp_server):
    port, inbox = smtp_server
    app = _smtp_app(make_app, port, SITE_NAME="Ada's Blog")
    message_id = _queue(app)
    assert _deliver(app) == 1
    [received] = inbox.messages
    assert inbox.envelopes == [(FROM, ["reader@example.com"])]
    assert received["From"] == f"Ada's Blog <{FROM}>"
    assert received["To"] == "reader@example.com"
    assert received["Subject"] == "Choose a new password on Ada's Blog"
    assert received["Auto-Submitted"] == "auto-generated"
    row = _row(app, message_id)
    assert received["Message-ID"] == row["message_id"]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "http://localhost/auth/reset/abc" in text
    assert '<a href="http://localhost/auth/reset/abc">' in html
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    # Delivered: the link is not kept in the database.
    assert row["body_text"] == "" and row["body_html"] == ""
    assert _deliver(app) == 0  # nothing is sent twice


def test_nothing_typed_can_add_a_header(make_app, smtp_server):
    port, inbox = smtp_server
    app = _smtp_app(make_app, port, SITE_NAME="Blog\r\nBcc: victim@example.com")
    _queue(app, username="alice\r\nBcc: victim@example.com")
    assert _deliver(app) == 1
    [received] = inbox.messages
    assert received["Bcc"] is None
    assert inbox.envelopes == [(FROM, ["reader@example.com"])]
    assert "\n" not in received["Subject"] and "\n" not in received["From"]


def test_starttls_is_required_and_never_skipped(make_app, smtp_server):
    port, inbox = smtp_server
    # The default security: this server offers no STARTTLS, so nothing is sent.
    app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, MAIL_FROM=FROM)
    message_id = _queue(app)
    assert _deliver(app) == 1
    assert inbox.messages == []
    row = _row(app, message_id)
    assert row["status"] == "queued" and row["attempts"] == 1
    assert "STARTTLS" in row["last_error"] or "starttls" in row["last_error"]
    assert row["next_attempt_at"] > utcnow()
    assert row["body_text"]  # kept for the next attempt


def test_an_unreachable_server_is_retried_later_then_given_up(make_app, caplog):
    app = _smtp_app(make_app, _free_port(), MAIL_MAX_ATTEMPTS=3, MAIL_SMTP_TIMEOUT=2)
    message_id = _queue(app)
    waits = []
    for attempt in (1, 2, 3):
        before = utcnow()
        assert _deliver(app) == 1
        row = _row(app, message_id)
        assert row["attempts"] == attempt
        assert "ConnectionRefusedError" in row["last_error"]
        waits.append(row["next_attempt_at"] - before)
        assert _deliver(app) == 0  # not due again before its wait
        _make_due(app)
    assert row["status"] == "failed"
    # The wait doubles: about 1 and 2 minutes.
    assert timedelta(seconds=55) < waits[0] < timedelta(seconds=65)
    assert timedelta(seconds=115) < waits[1] < timedelta(seconds=125)
    assert _deliver(app) == 0  # a failed message is not tried again by itself
    with app.app_context():
        from flaskr.mail.services import retry

        retry(message_id)
    assert _row(app, message_id)["status"] == "queued"
    assert _row(app, message_id)["attempts"] == 0


def test_a_claimed_message_is_not_taken_by_another_sender(app):
    message_id = _queue(app)
    now = utcnow()
    with app.app_context(), transaction():
        [claimed] = queries.claim_due(now, now + timedelta(minutes=5), 10)
    assert claimed["id"] == message_id and claimed["attempts"] == 1
    with app.app_context(), transaction():
        assert queries.claim_due(now, now + timedelta(minutes=5), 10) == []
    # When the claim ran out, another sender takes it; the first one's late
    # outcome is then not recorded.
    later = now + timedelta(minutes=6)
    with app.app_context(), transaction():
        [again] = queries.claim_due(later, later + timedelta(minutes=5), 10)
    assert again["attempts"] == 2
    with app.app_context(), transaction():
        assert not queries.update_outcome(message_id, 1, status="sent")
        assert queries.update_outcome(message_id, 2, status="sent")


def test_senders_at_the_same_time_share_the_outbox(make_app, db_kind):
    apps = [make_app(), make_app()]
    ids = {_queue(apps[0], to=f"r{n}@example.com") for n in range(30)}
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def claim(index: int) -> None:
        app = apps[index]
        barrier.wait()
        while True:
            now = utcnow()
            with app.app_context(), transaction():
                rows = queries.claim_due(now, now + timedelta(minutes=5), 3)
            if not rows:
                return
            claimed[index].extend(row["id"] for row in rows)

    threads = [threading.Thread(target=claim, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == sorted(ids)  # each message once, none missed


def test_without_smtp_mail_goes_to_the_log_and_the_outbox_command(app, runner, caplog):
    # The server log shows it: INFO is kept (Python's default would drop it).
    assert logging.getLogger("flaskr.mail").getEffectiveLevel() == logging.INFO
    message_id = _queue(app)
    with caplog.at_level(logging.INFO, logger="flaskr.mail"):
        result = runner.invoke(args=["outbox", "--send"])
    assert "Handled 1 message(s)." in result.output
    assert "http://localhost/auth/reset/abc" in caplog.text
    row = _row(app, message_id)
    assert row["status"] == "logged"
    assert row["body_text"]  # kept: the command shows it
    listing = runner.invoke(args=["outbox"]).output
    assert "reader@example.com" in listing and "logged" in listing
    shown = runner.invoke(args=["outbox", "--show", str(message_id)]).output
    assert "To: reader@example.com" in shown
    assert "http://localhost/auth/reset/abc" in shown
    missing = runner.invoke(args=["outbox", "--show", "999"])
    assert missing.exit_code != 0 and "No message 999" in missing.output


def test_the_outbox_command_on_an_empty_outbox(runner):
    assert "The outbox is empty." in runner.invoke(args=["outbox"]).output


def test_a_serving_process_sends_what_a_request_queued(make_app, make_user, smtp_server):
    port, inbox = smtp_server
    app = _smtp_app(make_app, port, MAIL_SENDER=True, MAIL_POLL_SECONDS=60)
    make_user("alice", "a long enough pw")
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "a long enough pw"})
    client.post(
        "/auth/account/email", data={"email": "alice@example.com", "password": "a long enough pw"}
    )
    # Woken by the request, not the 60-second poll.
    deadline = time.monotonic() + 15
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [received] = inbox.messages
    assert received["To"] == "alice@example.com"
    sender.stop(app)
    assert "flaskr.mail_sender" not in app.extensions


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_SMTP_SECURITY": "ssl"}, "MAIL_SMTP_SECURITY must be one of"),
        ({"MAIL_SMTP_HOST": "smtp.example.com"}, "MAIL_FROM"),
        ({"MAIL_FROM": "Blog <blog@example.com>"}, "MAIL_FROM must be a plain address"),
    ],
)
def test_mail_settings_are_checked_at_start(make_app, settings, message):
    with pytest.raises(ConfigError, match=message):
        make_app(**settings)


def test_the_admin_outbox_page(app, client, make_user):
    make_user("root", "a long enough pw", role="admin")
    client.post("/auth/login", data={"username": "root", "password": "a long enough pw"})
    sent, failed = _queue(app, to="one@example.com"), _queue(app, to="two@example.com")
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.id == failed)
            .values(status="failed", attempts=8, last_error="SMTPRecipientsRefused: no such user")
        )
        conn.execute(sa.update(outbox).where(outbox.c.id == sent).values(status="sent"))
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "one@example.com" in page and "two@example.com" in page
    assert "no such user" in page
    assert "No mail server is set" in page
    only_failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "two@example.com" in only_failed and "one@example.com" not in only_failed
    assert client.get("/admin/outbox?status=nonsense").status_code == 404
    response = client.post(f"/admin/outbox/{failed}/retry", follow_redirects=True)
    assert "The message will be sent again." in response.get_data(as_text=True)
    assert _row(app, failed)["status"] == "queued"
    assert "Failed mail sent again" in client.get("/admin/audit").get_data(as_text=True)
    response = client.post(f"/admin/outbox/{sent}/retry", follow_redirects=True)
    assert "Only a failed message can be sent again." in response.get_data(as_text=True)
    assert _row(app, sent)["status"] == "sent"
