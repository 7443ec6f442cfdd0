"""Emails about comments: who gets which, never for what is held, only to confirmed
addresses, each switchable, and each with a one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import re
import time

import pytest
import smtp_inbox
import sqlalchemy as sa

from flaskr.db import connection, transaction

PW = "a long enough pw"


@pytest.fixture
def site(app, make_user, make_post) -> dict[str, int]:
    """Alice's post; Rita and Bob read it (Rita's comments publish at once); Ed edits.
    Everyone but Bob has a confirmed address."""
    app.config["COMMENTS_HOLD_FIRST"] = False
    ids = {
        "alice": make_user("alice", PW, role="author"),
        "rita": make_user("rita", PW, role="reader"),
        "bob": make_user("bob", PW, role="reader"),
        "ed": make_user("ed", PW, role="editor"),
    }
    with app.app_context(), transaction():
        for name in ("alice", "rita", "ed"):
            connection().execute(
                sa.text('UPDATE "user" SET email = :email, email_key = :email WHERE id = :id'),
                {"email": f"{name}@example.com", "id": ids[name]},
            )
    ids["post"] = make_post(ids["alice"], "Talked about", "Say something")
    return ids


def login(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PW})
    assert response.status_code == 302
    return client


def send(app, client, post_id: int, body: str, **fields) -> int:
    """Post a comment as a person does; its id."""
    from flaskr.comments.screening import form_stamp

    with app.app_context():
        stamp = form_stamp(post_id, at=time.time() - 60)
    response = client.post(f"/{post_id}/comments", data={"body": body, "stamp": stamp, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"#comment-(\d+)$", response.headers["Location"])[1])


def outbox(app) -> list[dict]:
    with app.app_context():
        found = connection().execute(sa.text("SELECT * FROM outbox ORDER BY id"))
        return [dict(row) for row in found.mappings()]


def mails(app) -> list[tuple[str, str]]:
    """(recipient, kind) of every queued message, in order."""
    return [(m["recipient"], m["kind"]) for m in outbox(app)]


def test_a_comment_mails_the_posts_author_and_a_reply_the_comments_author(app, site):
    rita = login(app, "rita")
    first = send(app, rita, site["post"], "Nice post")
    assert mails(app) == [("alice@example.com", "comment-on-post")]
    [message] = outbox(app)
    assert message["subject"] == "rita commented on “Talked about”"
    assert "Nice post" in message["body_text"]
    assert f"/comments/{first}" in message["body_text"]
    # Ed answers Rita: she gets a reply email, Alice a comment email, Ed none.
    send(app, login(app, "ed"), site["post"], "Thanks", parent_id=str(first))
    assert mails(app)[1:] == [
        ("rita@example.com", "comment-reply"),
        ("alice@example.com", "comment-on-post"),
    ]


def test_nobody_is_mailed_about_their_own_words_nor_twice(app, site):
    alice = login(app, "alice")
    mine = send(app, alice, site["post"], "The author speaks")
    assert mails(app) == []  # her own comment on her own post
    send(app, alice, site["post"], "And answers herself", parent_id=str(mine))
    assert mails(app) == []
    # Rita answers Alice's comment under Alice's post: one email, the reply one.
    send(app, login(app, "rita"), site["post"], "Hello Alice", parent_id=str(mine))
    assert mails(app) == [("alice@example.com", "comment-reply")]


def test_only_a_confirmed_address_of_an_enabled_account_is_mailed(app, site, make_post):
    bobs = make_post(site["bob"], "Bob writes", "No address here")
    send(app, login(app, "rita"), bobs, "Bob has no address")
    assert mails(app) == []
    # An address Bob asked for and has not confirmed yet is not mailed either.
    bob = login(app, "bob")
    data = {"email": "bob@example.com", "password": PW}
    assert bob.post("/auth/account/email", data=data).status_code == 302
    assert mails(app) == [("bob@example.com", "verify-email")]
    send(app, login(app, "rita"), bobs, "Bob's address waits")
    assert mails(app) == [("bob@example.com", "verify-email")]
    with app.app_context(), transaction():
        connection().execute(
            sa.text('UPDATE "user" SET disabled = :yes WHERE id = :id'),
            {"yes": True, "id": site["alice"]},
        )
    send(app, login(app, "rita"), site["post"], "Alice is disabled")
    assert mails(app) == [("bob@example.com", "verify-email")]


def test_a_held_comment_mails_moderators_only_and_the_rest_on_approval(app, site):
    app.config["COMMENTS_HOLD_FIRST"] = True
    bob_id = site["bob"]
    with app.app_context(), transaction():
        connection().execute(
            sa.text('UPDATE "user" SET email = :e, email_key = :e WHERE id = :id'),
            {"e": "bob@example.com", "id": bob_id},
        )
    comment = send(app, login(app, "bob"), site["post"], "Held at first")
    # The post's author and the editor hear that it waits; nobody hears of it otherwise.
    assert sorted(mails(app)) == [
        ("alice@example.com", "comment-queue"),
        ("ed@example.com", "comment-queue"),
    ]
    assert "Held at first" in outbox(app)[0]["body_text"]
    alice = login(app, "alice")
    alice.post(f"/comments/{comment}/moderate", data={"action": "approve"})
    assert mails(app)[2:] == [("alice@example.com", "comment-on-post")]
    # Hidden and shown again: it was announced once, it is not announced again.
    alice.post(f"/comments/{comment}/moderate", data={"action": "hide"})
    alice.post(f"/comments/{comment}/moderate", data={"action": "unhide"})
    assert len(mails(app)) == 3


def test_a_held_reply_mails_its_parents_author_only_once_approved(app, site):
    first = send(app, login(app, "rita"), site["post"], "Top comment")
    app.config["COMMENTS_HOLD_FIRST"] = True
    reply = send(app, login(app, "bob"), site["post"], "Held reply", parent_id=str(first))
    assert ("rita@example.com", "comment-reply") not in mails(app)
    login(app, "ed").post("/comments/queue", data={"action": "approve", "ids": str(reply)})
    assert mails(app)[-2:] == [
        ("rita@example.com", "comment-reply"),
        ("alice@example.com", "comment-on-post"),
    ]


def test_each_kind_is_switched_on_the_account_page(app, site):
    alice = login(app, "alice")
    page = alice.get("/auth/account").get_data(as_text=True)
    assert 'name="comment-on-post" value="on" checked' in page
    assert 'name="comment-queue" value="on" checked' in page
    response = alice.post("/auth/account/notifications", data={"comment-reply": "on"})
    assert response.status_code == 303
    page = alice.get("/auth/account").get_data(as_text=True)
    assert 'name="comment-on-post" value="on">' in page
    assert 'name="comment-reply" value="on" checked' in page
    rita = login(app, "rita")
    first = send(app, rita, site["post"], "Alice turned this off")
    assert mails(app) == []
    send(app, rita, site["post"], "She still hears of replies", parent_id=str(first))
    assert mails(app) == []  # rita's own comment: no reply email to herself
    mine = send(app, alice, site["post"], "Alice comments")
    send(app, rita, site["post"], "Rita replies", parent_id=str(mine))
    assert mails(app) == [("alice@example.com", "comment-reply")]
    # A reader has no queue: the page does not offer its email, nor takes it.
    assert "comment-queue" not in rita.get("/auth/account").get_data(as_text=True)
    refused = rita.post("/auth/account/notifications", data={"comment-queue": "on"})
    assert refused.status_code == 400
    assert alice.post("/auth/account/notifications", data={"comment-reply": "x"}).status_code == 400
    bad = alice.post("/auth/account/notifications", data={"everything": "on"})
    assert bad.status_code == 400 and "Choose emails from the list." in bad.get_data(as_text=True)


def _unsubscribe_path(message: dict) -> str:
    return re.sub(r"^http://[^/]+", "", message["list_unsubscribe"])


def test_one_click_unsubscribe_stops_that_kind_only_without_logging_in(app, site):
    rita = login(app, "rita")
    first = send(app, rita, site["post"], "A comment")
    [message] = outbox(app)
    path = _unsubscribe_path(message)
    assert path in message["body_text"].replace("http://localhost", "")
    visitor = app.test_client()
    # Opening the link (as a mail scanner does) only asks.
    page = visitor.get(path)
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    send(app, rita, site["post"], "Still mailed")
    assert len(mails(app)) == 2
    # A mail program's one-click POST: no session, no CSRF token.
    done = visitor.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Done" in done.get_data(as_text=True)
    assert visitor.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    send(app, rita, site["post"], "Not mailed any more")
    assert len(mails(app)) == 2
    # Replies to Alice's comments still reach her.
    mine = send(app, login(app, "alice"), site["post"], "Alice comments")
    send(app, rita, site["post"], "A reply", parent_id=str(mine))
    assert mails(app)[-1] == ("alice@example.com", "comment-reply")
    assert first


def test_an_unsubscribe_link_names_one_account_and_one_kind(app, site):
    send(app, login(app, "rita"), site["post"], "A comment")
    path = _unsubscribe_path(outbox(app)[0])
    token = path.rsplit("/", 1)[1]
    visitor = app.test_client()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "made-up", "x" * 500):
        response = visitor.post(f"/unsubscribe/{bad}")
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True)
    # A token signed with another key (another site) or for another kind is refused too.
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("another key", salt="flaskr.unsubscribe").dumps(
        [site["alice"], "comment-on-post"]
    )
    assert visitor.post(f"/unsubscribe/{forged}").status_code == 404
    with app.test_request_context():
        from flaskr.notifications.services import _signer

        other_kind = _signer().dumps([site["alice"], "everything"])
    assert visitor.post(f"/unsubscribe/{other_kind}").status_code == 404
    with app.app_context():
        kept = connection().execute(sa.text("SELECT count(*) FROM notification_optout")).scalar()
    assert kept == 0


def test_the_sent_message_carries_list_unsubscribe_headers(make_app, site):
    with smtp_inbox.smtp_server() as inbox:
        app = make_app(
            MAIL_SMTP_HOST="127.0.0.1",
            MAIL_SMTP_PORT=inbox.port,
            MAIL_SMTP_SECURITY="none",
            MAIL_FROM="blog@example.com",
            COMMENTS_HOLD_FIRST=False,
        )
        send(app, login(app, "rita"), site["post"], "Over SMTP")
        from flaskr.mail import sender

        with app.app_context():
            assert sender.deliver_due() == 1
        [received] = inbox.messages
    unsubscribe = outbox(app)[0]["list_unsubscribe"]
    assert received["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith("http://localhost/unsubscribe/")


def test_other_mail_has_no_unsubscribe_header(app):
    from flaskr.mail import sender
    from flaskr.mail.services import queue_message

    with app.test_request_context():
        message_id = queue_message(
            "reader@example.com",
            "password-reset",
            "password_reset",
            link="http://localhost/auth/reset/abc",
            minutes=60,
            username="rita",
        )
        row = (
            connection()
            .execute(sa.text("SELECT * FROM outbox WHERE id = :id"), {"id": message_id})
            .mappings()
            .one()
        )
        built = sender.build_message(row)
    assert "List-Unsubscribe" not in built and "List-Unsubscribe-Post" not in built


def test_a_german_reader_gets_german_mail(app, site):
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE \"user\" SET language = 'de' WHERE id = :id"), {"id": site["alice"]}
        )
    send(app, login(app, "rita"), site["post"], "Hallo")
    [message] = outbox(app)
    assert message["subject"] == "rita hat „Talked about“ kommentiert"


def test_deleting_an_account_forgets_its_choices(app, site):
    alice = login(app, "alice")
    alice.post("/auth/account/notifications", data={})
    with app.app_context():
        count = "SELECT count(*) FROM notification_optout WHERE user_id = :id"
        assert connection().execute(sa.text(count), {"id": site["alice"]}).scalar() == 3
        with transaction():
            connection().execute(
                sa.text('DELETE FROM "user" WHERE id = :id'), {"id": site["alice"]}
            )
        assert connection().execute(sa.text(count), {"id": site["alice"]}).scalar() == 0
