"""Comments: writing, threads, moderation, the screening rules, counts and the page cache."""

from __future__ import annotations

import re
import threading
import time
import traceback
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.db import connection, transaction, utcnow

PW = "a long enough pw"


@pytest.fixture
def post_id(make_user, make_post) -> int:
    """A published post by its author."""
    author = make_user("author", PW, role="author")
    return make_post(author, "Talked about", "Say something")


def login(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PW})
    assert response.status_code == 302
    return client


def stamp(app, post_id: int, age: float = 60) -> str:
    """The comment form's stamp, as if the form was shown `age` seconds ago."""
    from flaskr.comments.screening import form_stamp

    with app.app_context():
        return form_stamp(post_id, at=time.time() - age)


def send(app, client, post_id: int, body: str, **fields):
    """Post the comment form as a person does: a stamp from a while ago, no honeypot."""
    data = {"body": body, "stamp": stamp(app, post_id), **fields}
    return client.post(f"/{post_id}/comments", data=data)


def rows(app, post_id: int) -> list[dict]:
    with app.app_context():
        result = connection().execute(
            sa.text("SELECT * FROM comment WHERE post_id = :id ORDER BY id"), {"id": post_id}
        )
        return [dict(row) for row in result.mappings()]


def count(app, post_id: int) -> int:
    with app.app_context():
        found = connection().execute(
            sa.text("SELECT comments FROM post_comment_count WHERE post_id = :id"), {"id": post_id}
        )
        return found.scalar() or 0


def approved_reader(app, make_user, name: str = "reader"):
    """A reader whose comments publish at once (the first-comment rule is off)."""
    make_user(name, PW, role="reader")
    app.config["COMMENTS_HOLD_FIRST"] = False
    return login(app, name)


def user_id(app, username: str) -> int:
    with app.app_context():
        found = connection().execute(
            sa.text('SELECT id FROM "user" WHERE username = :name'), {"name": username}
        )
        return int(found.scalar_one())


def comment_id_of(response) -> int:
    match = re.search(r"#comment-(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match[1])


# --- writing and reading ------------------------------------------------------


def test_a_first_comment_waits_for_the_author_then_everyone_sees_it(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    reader = login(app, "reader")
    response = send(app, reader, post_id, "Nice *post*")
    assert response.status_code == 303
    comment_id = comment_id_of(response)
    page = reader.get(response.headers["Location"]).get_data(as_text=True)
    assert "waits for a moderator" in page
    assert "Waiting for approval" in page and "<em>post</em>" in page
    visitor = app.test_client()
    assert "Nice" not in visitor.get(f"/{post_id}/").get_data(as_text=True)
    assert "0 comments" in visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    author = login(app, "author")
    page = author.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert 'value="approve"' in page and "Nice" in page
    response = author.post(f"/comments/{comment_id}/moderate", data={"action": "approve"})
    assert response.status_code == 303
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "<em>post</em>" in page and f'id="comment-{comment_id}"' in page
    assert "1 comment<" in page
    assert "1 comment</a>" in visitor.get("/").get_data(as_text=True)  # lists say it too
    assert count(app, post_id) == 1


def test_once_one_is_approved_the_next_ones_publish_at_once(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    reader = login(app, "reader")
    first = comment_id_of(send(app, reader, post_id, "First"))
    login(app, "author").post(f"/comments/{first}/moderate", data={"action": "approve"})
    send(app, reader, post_id, "Second")
    assert [row["status"] for row in rows(app, post_id)] == ["published", "published"]
    assert count(app, post_id) == 2


def test_the_posts_author_and_editors_are_never_held(app, make_user, post_id):
    make_user("editor", PW, role="editor")
    send(
        app,
        login(app, "author"),
        post_id,
        "Thanks for reading, see https://a.example https://b.example https://c.example",
    )
    send(app, login(app, "editor"), post_id, "Edited for clarity")
    assert [row["status"] for row in rows(app, post_id)] == ["published", "published"]


def test_a_visitor_is_sent_to_log_in_and_comes_back_to_the_form(app, make_user, post_id):
    visitor = app.test_client()
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "Log in to comment" in page and 'name="body"' not in page
    response = visitor.post(
        f"/{post_id}/comments", data={"body": "x", "stamp": stamp(app, post_id)}
    )
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert rows(app, post_id) == []
    assert visitor.get(f"/{post_id}/comments").headers["Location"].endswith("/auth/login")
    make_user("reader", PW, role="reader")
    response = visitor.post("/auth/login", data={"username": "reader", "password": PW})
    assert response.headers["Location"] == f"/{post_id}/comments"
    assert visitor.get(f"/{post_id}/comments").headers["Location"].endswith("#comments")


def test_drafts_and_scheduled_posts_take_no_comments_even_from_their_author(
    app, make_user, make_post
):
    author = make_user("author", PW, role="author")
    draft = make_post(author, "Draft", "b", status="draft")
    later = make_post(author, "Later", "b", publish_at=utcnow() + timedelta(days=1))
    client = login(app, "author")
    for post_id in (draft, later):
        assert send(app, client, post_id, "hi").status_code == 404
        assert rows(app, post_id) == []
        assert 'id="comments"' not in client.get(f"/{post_id}/", follow_redirects=True).get_data(
            as_text=True
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Comment is required."),
        ("   \n ", "Comment is required."),
        ("x" * 5001, "5000"),
    ],
)
def test_a_comment_that_cannot_be_saved_comes_back_with_its_text_and_why(
    app, make_user, post_id, body, message
):
    make_user("reader", PW, role="reader")
    response = send(app, login(app, "reader"), post_id, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'role="alert"' in page
    if body.strip():
        assert body in page  # nothing lost
    assert rows(app, post_id) == []


def test_hostile_markdown_is_sanitized_and_comments_have_no_headings_or_pictures(
    app, make_user, post_id
):
    client = approved_reader(app, make_user)
    body = (
        "# Big\n\n![x](https://evil.example/x.png)\n\n<script>alert(1)</script> "
        "[click](javascript:alert(2)) <img src=x onerror=alert(3)> [ok](https://ok.example)"
    )
    send(app, client, post_id, body)
    (row,) = rows(app, post_id)
    html = row["body_html"]
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(3)&gt;" in html  # as text
    assert "<h1" not in html and "# Big" in html
    assert '<a href="https://ok.example" rel="nofollow noopener ugc">ok</a>' in html


# --- replies, editing, deleting -----------------------------------------------


def test_one_level_of_replies(app, make_user, post_id):
    client = approved_reader(app, make_user)
    top = comment_id_of(send(app, client, post_id, "Top"))
    reply = comment_id_of(send(app, client, post_id, "A reply", parent_id=str(top)))
    page = client.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert re.search(
        rf'id="comment-{top}".*<ol class="replies">\s*<li><article[^>]*id="comment-{reply}"',
        page,
        re.S,
    )
    huge = ("2147483648", "99999999999", "0" * 4301, "0")
    for parent in (str(reply), "999999", "abc", str(top) + "0", *huge):
        response = send(app, client, post_id, f"Deeper {parent}", parent_id=parent)
        assert response.status_code == 400, parent
        assert "replying to is gone" in response.get_data(as_text=True)
    assert len(rows(app, post_id)) == 2


def test_no_reply_to_a_comment_readers_do_not_see(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    reader = login(app, "reader")
    held = comment_id_of(send(app, reader, post_id, "Held"))
    assert send(app, reader, post_id, "Reply", parent_id=str(held)).status_code == 400


def test_the_author_edits_within_the_window_and_not_after(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Tpyo"))
    assert client.get(f"/comments/{comment_id}/edit").status_code == 200
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "Typo"})
    assert response.status_code == 303
    (row,) = rows(app, post_id)
    assert row["body"] == "Typo" and row["edited_at"] is not None
    assert "(edited)" in client.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert client.post(f"/comments/{comment_id}/edit", data={"body": ""}).status_code == 400
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE comment SET created_at = :at"),
            {"at": utcnow() - timedelta(minutes=app.config["COMMENTS_EDIT_MINUTES"], seconds=1)},
        )
    assert client.post(f"/comments/{comment_id}/edit", data={"body": "Late"}).status_code == 403
    assert rows(app, post_id)[0]["body"] == "Typo"


def test_nobody_else_edits_a_comment_not_even_the_posts_author(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Mine"))
    assert (
        login(app, "author").post(f"/comments/{comment_id}/edit", data={"body": "x"}).status_code
        == 403
    )
    assert rows(app, post_id)[0]["body"] == "Mine"


def test_an_edit_that_adds_links_is_held_again(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Harmless"))
    links = " ".join(f"https://spam{n}.example" for n in range(3))
    body = " ".join(f"[x](https://spam{n}.example)" for n in range(3))
    client.post(f"/comments/{comment_id}/edit", data={"body": body})
    assert rows(app, post_id)[0]["status"] == "held", links
    assert count(app, post_id) == 0


def test_deleting_a_comment_with_replies_leaves_deleted_and_the_thread_holds(
    app, make_user, post_id
):
    client = approved_reader(app, make_user)
    other = approved_reader(app, make_user, "other")
    top = comment_id_of(send(app, client, post_id, "Secret opinion"))
    reply = comment_id_of(send(app, other, post_id, "An answer", parent_id=str(top)))
    assert client.post(f"/comments/{top}/delete").status_code == 303
    page = app.test_client().get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "[deleted]" in page and "An answer" in page and "Secret opinion" not in page
    tombstone = rows(app, post_id)[0]
    assert (tombstone["status"], tombstone["body"], tombstone["author_id"]) == ("deleted", "", None)
    assert count(app, post_id) == 1
    # The tombstone cannot be deleted or edited again, nor replied to.
    assert client.post(f"/comments/{top}/delete").status_code in (403, 404)
    assert send(app, other, post_id, "More", parent_id=str(top)).status_code == 400
    # Its last reply gone, "[deleted]" goes too.
    assert other.post(f"/comments/{reply}/delete").status_code == 303
    assert rows(app, post_id) == []
    assert count(app, post_id) == 0


def test_a_comment_without_replies_is_deleted_outright(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Oops"))
    assert app.test_client().post(f"/comments/{comment_id}/delete").status_code == 302
    assert login(app, "author").post(f"/comments/{comment_id}/delete").status_code == 303
    assert rows(app, post_id) == []


def test_another_reader_may_not_delete_or_moderate(app, make_user, post_id):
    client = approved_reader(app, make_user)
    stranger = approved_reader(app, make_user, "stranger")
    comment_id = comment_id_of(send(app, client, post_id, "Mine"))
    assert stranger.post(f"/comments/{comment_id}/delete").status_code == 403
    response = stranger.post(f"/comments/{comment_id}/moderate", data={"action": "hide"})
    assert response.status_code == 403
    assert rows(app, post_id)[0]["status"] == "published"


# --- moderation ---------------------------------------------------------------


def test_hide_and_unhide_change_what_readers_see_at_once(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Rude words"))
    visitor = app.test_client()
    url = f"/{post_id}/"
    assert "Rude words" in visitor.get(url, follow_redirects=True).get_data(as_text=True)
    author = login(app, "author")
    author.post(f"/comments/{comment_id}/moderate", data={"action": "hide"})
    assert "Rude words" not in visitor.get(url, follow_redirects=True).get_data(as_text=True)
    # The commenter does not see a hidden comment either; the author still does.
    assert "Rude words" not in client.get(url, follow_redirects=True).get_data(as_text=True)
    page = author.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Hidden from readers" in page and 'value="unhide"' in page
    assert count(app, post_id) == 0
    author.post(f"/comments/{comment_id}/moderate", data={"action": "unhide"})
    assert "Rude words" in visitor.get(url, follow_redirects=True).get_data(as_text=True)
    assert count(app, post_id) == 1


def test_a_new_comment_reaches_a_kept_page_at_once(app, make_user, post_id):
    assert app.config["PAGE_CACHE_SECONDS"] > 0  # visitors' pages are kept
    visitor = app.test_client()
    url = f"/{post_id}/talked-about"
    kept = visitor.get(url).get_data(as_text=True)
    assert app.extensions["flaskr.pagecache"].entries  # the page is kept
    assert "First!" not in kept
    send(app, approved_reader(app, make_user), post_id, "First!")
    page = visitor.get(url).get_data(as_text=True)
    assert "First!" in page and "1 comment" in page


def test_an_unknown_moderation_action_is_a_400(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Hi"))
    response = login(app, "author").post(
        f"/comments/{comment_id}/moderate", data={"action": "nuke"}
    )
    assert response.status_code == 400
    assert "Choose approve" in response.get_data(as_text=True)


def test_the_queue_lists_what_waits_on_ones_own_posts_and_editors_see_all(
    app, make_user, make_post, post_id
):
    other_author = make_user("other", PW, role="author")
    other_post = make_post(other_author, "Other post", "b")
    make_user("editor", PW, role="editor")
    make_user("reader", PW, role="reader")
    reader = login(app, "reader")
    send(app, reader, post_id, "On the author's post")
    send(app, reader, other_post, "On the other post")
    page = login(app, "author").get("/comments/queue").get_data(as_text=True)
    assert "On the author" in page and "On the other post" not in page
    assert "First comment" in page  # why it waits
    page = login(app, "editor").get("/comments/queue").get_data(as_text=True)
    assert "On the author" in page and "On the other post" in page
    assert reader.get("/comments/queue").status_code == 403


def test_the_queue_approves_rejects_and_marks_spam_one_at_a_time_and_in_bulk(
    app, make_user, post_id
):
    for name in ("r1", "r2", "r3", "r4"):
        make_user(name, PW, role="reader")
        send(app, login(app, name), post_id, f"From {name}")
    ids = [row["id"] for row in rows(app, post_id)]
    author = login(app, "author")
    response = author.post("/comments/queue", data={"item": f"spam:{ids[0]}"})
    assert response.status_code == 303
    response = author.post("/comments/queue", data={"action": "approve", "ids": [ids[1], ids[2]]})
    assert "Approved: 2." in author.get(response.headers["Location"]).get_data(as_text=True)
    author.post("/comments/queue", data={"item": f"reject:{ids[3]}"})
    assert [(row["id"], row["status"]) for row in rows(app, post_id)] == [
        (ids[0], "spam"),
        (ids[1], "published"),
        (ids[2], "published"),
    ]
    assert "Nothing is waiting" in author.get("/comments/queue").get_data(as_text=True)
    assert count(app, post_id) == 2
    # Nothing ticked, a bad action, someone else's comment: told, and nothing changes.
    assert author.post("/comments/queue", data={"action": "approve"}).status_code == 303
    assert author.post("/comments/queue", data={"action": "x", "ids": ids}).status_code == 400
    assert author.post("/comments/queue", data={"item": "approve:abc"}).status_code == 303


def test_the_queue_leaves_comments_on_others_posts_alone(app, make_user, make_post, post_id):
    other = make_post(make_user("other", PW, role="author"), "Other", "b")
    make_user("reader", PW, role="reader")
    held = comment_id_of(send(app, login(app, "reader"), other, "Held elsewhere"))
    author = login(app, "author")
    author.post("/comments/queue", data={"action": "approve", "ids": [held]})
    author.post("/comments/queue", data={"item": f"approve:{held}"})
    assert rows(app, other)[0]["status"] == "held"


def test_spam_is_never_shown_on_the_post_page_not_even_to_moderators(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    comment_id = comment_id_of(send(app, login(app, "reader"), post_id, "Buy pills"))
    author = login(app, "author")
    author.post(f"/comments/{comment_id}/moderate", data={"action": "spam"})
    assert "Buy pills" not in author.get(f"/{post_id}/", follow_redirects=True).get_data(
        as_text=True
    )
    assert app.test_client().get(f"/comments/{comment_id}").status_code == 404


# --- closing ------------------------------------------------------------------


def test_the_author_closes_and_reopens_comments(app, make_user, post_id):
    client = approved_reader(app, make_user)
    send(app, client, post_id, "Before")
    author = login(app, "author")
    assert author.post(f"/{post_id}/comments/state", data={"open": "0"}).status_code == 303
    response = send(app, client, post_id, "After")
    assert response.status_code == 403
    assert "closed to new comments" in response.get_data(as_text=True)
    page = client.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "closed to new comments" in page and "Before" in page and 'name="body"' not in page
    assert author.post(f"/{post_id}/comments/state", data={"open": "2"}).status_code == 400
    assert client.post(f"/{post_id}/comments/state", data={"open": "1"}).status_code == 403
    author.post(f"/{post_id}/comments/state", data={"open": "1"})
    assert send(app, client, post_id, "After").status_code == 303


def test_the_site_closes_comments_on_old_posts(app, make_user, post_id):
    client = approved_reader(app, make_user)
    app.config["COMMENTS_CLOSE_AFTER_DAYS"] = 7
    assert send(app, client, post_id, "Fresh").status_code == 303
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE post SET published_at = :at"), {"at": utcnow() - timedelta(days=8)}
        )
    assert send(app, client, post_id, "Stale").status_code == 403
    assert [row["body"] for row in rows(app, post_id)] == ["Fresh"]


# --- screening ----------------------------------------------------------------


def test_the_honeypot_catches_a_bot_and_lets_a_person_through(app, make_user, post_id):
    client = approved_reader(app, make_user)
    response = send(app, client, post_id, "Bot text", website="https://spam.example")
    assert response.status_code == 400
    assert "Leave the field" in response.get_data(as_text=True)
    assert send(app, client, post_id, "Person text", website="").status_code == 303
    assert [row["body"] for row in rows(app, post_id)] == ["Person text"]


def test_a_form_sent_faster_than_a_person_writes_is_refused(app, make_user, post_id):
    client = approved_reader(app, make_user)
    data = {"body": "Instant", "stamp": stamp(app, post_id, age=0)}
    response = client.post(f"/{post_id}/comments", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Wait a few seconds" in page and "Instant" in page
    slow = {
        "body": "Instant",
        "stamp": stamp(app, post_id, age=app.config["COMMENTS_MIN_SECONDS"] + 1),
    }
    assert client.post(f"/{post_id}/comments", data=slow).status_code == 303


@pytest.mark.parametrize("kind", ["missing", "forged", "other post", "expired"])
def test_a_form_without_a_good_stamp_is_refused(app, make_user, post_id, kind):
    client = approved_reader(app, make_user)
    good = stamp(app, post_id)
    value = {
        "missing": "",
        "forged": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other post": stamp(app, post_id + 1),
        "expired": stamp(app, post_id, age=3 * 24 * 3600),
    }[kind]
    response = client.post(f"/{post_id}/comments", data={"body": "Hello", "stamp": value})
    assert response.status_code == 400
    assert "too old" in response.get_data(as_text=True)
    assert rows(app, post_id) == []


def test_the_same_text_twice_is_refused_and_other_text_is_not(app, make_user, post_id):
    client = approved_reader(app, make_user)
    assert send(app, client, post_id, "Great post!").status_code == 303
    response = send(app, client, post_id, "Great post!")
    assert response.status_code == 400
    assert "already posted" in response.get_data(as_text=True)
    assert send(app, client, post_id, "Great post, really!").status_code == 303
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE comment SET created_at = :at"),
            {"at": utcnow() - timedelta(minutes=app.config["COMMENTS_DUPLICATE_MINUTES"] + 1)},
        )
    assert send(app, client, post_id, "Great post!").status_code == 303


def test_too_many_links_hold_a_comment_and_a_few_do_not(app, make_user, post_id):
    client = approved_reader(app, make_user)
    app.config["COMMENTS_MAX_LINKS"] = 2
    send(app, client, post_id, "See [a](https://a.example) and <https://b.example>")
    send(
        app, client, post_id, "[a](https://a.example) [b](https://b.example) [c](https://c.example)"
    )
    assert [(row["status"], row["held_reason"]) for row in rows(app, post_id)] == [
        ("published", None),
        ("held", "links"),
    ]


def test_banned_words_hold_a_comment_as_whole_words_only(app, make_user, post_id):
    client = approved_reader(app, make_user)
    app.config["COMMENTS_BANNED_WORDS"] = "casino, cheap pills"
    send(app, client, post_id, "A classic casinos-free post")  # neither word whole
    send(app, client, post_id, "Visit my CASINO")
    send(app, client, post_id, "Cheap pills here")
    assert [(row["status"], row["held_reason"]) for row in rows(app, post_id)] == [
        ("published", None),
        ("held", "banned-words"),
        ("held", "banned-words"),
    ]


def test_a_young_account_is_held_and_an_older_one_is_not(app, make_user, post_id):
    client = approved_reader(app, make_user)
    app.config["COMMENTS_NEW_ACCOUNT_HOURS"] = 24
    send(app, client, post_id, "Too new")
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE \"user\" SET created = :at WHERE username = 'reader'"),
            {"at": utcnow() - timedelta(hours=25)},
        )
    send(app, login(app, "reader"), post_id, "Old enough")
    assert [(row["status"], row["held_reason"]) for row in rows(app, post_id)] == [
        ("held", "new-account"),
        ("published", None),
    ]


def test_the_per_account_rate_limit_catches_a_flood(make_app, make_user, post_id):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_COMMENT="2 per minute")
    client = approved_reader(app, make_user)
    assert send(app, client, post_id, "one").status_code == 303
    assert send(app, client, post_id, "two").status_code == 303
    assert send(app, client, post_id, "three").status_code == 429
    other = approved_reader(app, make_user, "other")
    assert send(app, other, post_id, "a person").status_code == 303


def test_the_per_address_rate_limit_catches_many_accounts_on_one_address(
    make_app, make_user, post_id
):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_COMMENT_IP="2 per minute")
    clients = [approved_reader(app, make_user, f"sock{n}") for n in range(3)]
    assert [send(app, c, post_id, "same bot").status_code for c in clients] == [303, 303, 429]
    # A person at another address is not held back by the bot's.
    person = approved_reader(app, make_user, "person")
    person.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert send(app, person, post_id, "a person").status_code == 303
    assert [row["body"] for row in rows(app, post_id)] == ["same bot", "same bot", "a person"]


# --- threads: pages, permalinks, counts, cache ---------------------------------


def test_long_threads_are_paged_and_permalinks_find_the_page(app, make_user, post_id):
    app.config["COMMENTS_PER_PAGE"] = 2
    client = approved_reader(app, make_user)
    ids = [comment_id_of(send(app, client, post_id, f"Number {n}")) for n in range(5)]
    visitor = app.test_client()
    page1 = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "Number 0" in page1 and "Number 2" not in page1 and "?comments=2#comments" in page1
    response = visitor.get(f"/comments/{ids[4]}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{post_id}/talked-about?comments=3#comment-{ids[4]}"
    page3 = visitor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Number 4" in page3 and "5 comments" in page3
    assert visitor.get(f"/{post_id}/talked-about?comments=4").status_code == 404
    assert visitor.get(f"/{post_id}/talked-about?comments=x").status_code == 404
    assert visitor.get("/comments/999999").status_code == 404


def test_a_held_comments_permalink_is_the_commenters_and_moderators_only(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    reader = login(app, "reader")
    held = comment_id_of(send(app, reader, post_id, "Held"))
    assert reader.get(f"/comments/{held}").status_code == 303
    assert login(app, "author").get(f"/comments/{held}").status_code == 303
    assert app.test_client().get(f"/comments/{held}").status_code == 404
    make_user("stranger", PW, role="reader")
    assert login(app, "stranger").get(f"/comments/{held}").status_code == 404


def test_a_held_comment_never_reaches_a_kept_page_nor_moves_the_version(app, make_user, post_id):
    from flaskr.blog import queries as blog_queries

    make_user("reader", PW, role="reader")
    visitor = app.test_client()
    url = f"/{post_id}/talked-about"
    kept = visitor.get(url).get_data(as_text=True)
    with app.app_context():
        before = blog_queries.content_version()
    comment_id = comment_id_of(send(app, login(app, "reader"), post_id, "Held text"))
    with app.app_context():
        assert blog_queries.content_version() == before  # nothing readers see changed
    assert visitor.get(url).get_data(as_text=True) == kept
    login(app, "author").post(f"/comments/{comment_id}/moderate", data={"action": "approve"})
    with app.app_context():
        assert blog_queries.content_version() != before
    assert "Held text" in visitor.get(url).get_data(as_text=True)  # at once


def test_comments_at_the_same_moment_all_count(app, make_user, post_id):
    app.config["COMMENTS_HOLD_FIRST"] = False
    clients = [approved_reader(app, make_user, f"r{n}") for n in range(8)]
    errors: list[str] = []
    barrier = threading.Barrier(len(clients) * 2)

    def comment(client, n: int) -> None:
        try:
            barrier.wait(timeout=60)
            response = send(app, client, post_id, f"Comment {n}")
            assert response.status_code == 303, response.status_code
        except Exception:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())

    threads = [
        threading.Thread(target=comment, args=(c, n * 2 + k))
        for n, c in enumerate(clients)
        for k in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert len(rows(app, post_id)) == 16
    assert count(app, post_id) == 16


def test_deleted_accounts_and_posts_take_their_comments_and_counts(app, make_user, post_id):
    from flaskr.auth import queries as auth_queries

    client = approved_reader(app, make_user)
    send(app, client, post_id, "By reader")
    other = approved_reader(app, make_user, "other")
    send(app, other, post_id, "By other")
    reader_id = user_id(app, "reader")
    with app.app_context(), transaction():
        auth_queries.delete_user(reader_id)
    assert [row["body"] for row in rows(app, post_id)] == ["By other"]
    assert count(app, post_id) == 1
    with app.app_context(), transaction():
        connection().execute(sa.text("DELETE FROM post WHERE id = :id"), {"id": post_id})
    assert rows(app, post_id) == [] and count(app, post_id) == 0


def test_a_post_back_from_the_trash_has_its_comments_back_with_their_ids(app, make_user, post_id):
    from flaskr.auth import queries as auth_queries

    client = approved_reader(app, make_user)
    other = approved_reader(app, make_user, "other")
    top = comment_id_of(send(app, client, post_id, "Top"))
    reply = comment_id_of(send(app, other, post_id, "Reply", parent_id=str(top)))
    mine = comment_id_of(send(app, other, post_id, "Other top"))
    author = login(app, "author")
    assert author.post(f"/{post_id}/delete").status_code == 302
    assert rows(app, post_id) == []
    reader_id = user_id(app, "reader")
    with app.app_context(), transaction():
        auth_queries.delete_user(reader_id)
    assert author.post(f"/me/trash/{post_id}/restore").status_code == 302
    # The deleted account's comment stays gone, and the reply under it with it.
    assert [row["id"] for row in rows(app, post_id)] == [mine]
    assert count(app, post_id) == 1
    assert reply not in [row["id"] for row in rows(app, post_id)]


def test_migration_0023_round_trip(make_app, empty_database):
    from alembic import command

    from flaskr.db import engine
    from flaskr.schema import alembic_config, upgrade_db

    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context():
        upgrade_db()
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0022")
        with engine().connect() as conn:
            inspector = sa.inspect(conn)
            assert not set(inspector.get_table_names()) & {"comment", "post_comment_count"}
            assert "comments_closed" not in {c["name"] for c in inspector.get_columns("post")}
        upgrade_db()
        now = utcnow()
        with transaction() as conn:
            conn.execute(sa.text("INSERT INTO \"user\" (username, password) VALUES ('u', 'x')"))
            conn.execute(sa.text("INSERT INTO post (title, body, author_id) VALUES ('t', 'b', 1)"))
            before = conn.execute(sa.text("SELECT version FROM content_version")).scalar_one()
            for status in ("held", "published", "published"):
                conn.execute(
                    sa.text(
                        "INSERT INTO comment (post_id, author_id, body, body_html, status, "
                        "created_at) VALUES (1, 1, 'c', '<p>c</p>', :status, :at)"
                    ),
                    {"status": status, "at": now},
                )
            after = conn.execute(sa.text("SELECT version FROM content_version")).scalar_one()
            assert after == before + 2  # the held one moved nothing
            conn.execute(sa.text("UPDATE comment SET status = 'hidden' WHERE id = 2"))
            conn.execute(sa.text("UPDATE comment SET status = 'published' WHERE id = 1"))
            conn.execute(sa.text("UPDATE comment SET body_html = 'changed' WHERE id = 3"))
            # Nor does a column pages do not show.
            conn.execute(sa.text("UPDATE comment SET held_reason = 'x' WHERE id = 2"))
        with engine().connect() as conn:
            assert (
                conn.execute(sa.text("SELECT comments FROM post_comment_count")).scalar_one() == 2
            )
            version = conn.execute(sa.text("SELECT version FROM content_version")).scalar_one()
            assert version == after + 3
        with transaction() as conn:
            conn.execute(sa.text("DELETE FROM comment WHERE id = 3"))
        with engine().connect() as conn:
            assert (
                conn.execute(sa.text("SELECT comments FROM post_comment_count")).scalar_one() == 1
            )


def test_a_page_holds_the_same_number_of_comments_however_many_replies_one_has(
    app, make_user, post_id
):
    app.config["COMMENTS_PER_PAGE"] = 3
    client = approved_reader(app, make_user)
    top = comment_id_of(send(app, client, post_id, "The top"))
    replies = [
        comment_id_of(send(app, client, post_id, f"Reply {n}", parent_id=str(top)))
        for n in range(4)
    ]
    later = comment_id_of(send(app, client, post_id, "A later comment"))
    first = client.get(f"/{post_id}/talked-about").get_data(as_text=True)
    assert first.count('class="comment"') == 3  # the top and two replies
    assert "Reply 2" not in first and "A later comment" not in first
    response = client.get(f"/comments/{replies[3]}")
    assert response.headers["Location"].endswith(f"?comments=2#comment-{replies[3]}")
    second = client.get(response.headers["Location"]).get_data(as_text=True)
    # The thread goes on where the last page left it, and may still be answered.
    assert "Replies to a comment on an earlier page" in second
    assert "Reply 2" in second and "Reply 3" in second and "A later comment" in second
    assert f'name="parent_id" value="{top}"' in second
    assert f'name="parent_id" value="{later}"' in second


def test_replies_under_a_hidden_comment_are_hidden_with_it(app, make_user, post_id):
    client = approved_reader(app, make_user)
    top = comment_id_of(send(app, client, post_id, "Hide me"))
    reply = comment_id_of(send(app, client, post_id, "A reply under it", parent_id=str(top)))
    author = login(app, "author")
    author.post(f"/comments/{top}/moderate", data={"action": "hide"})
    page = app.test_client().get(f"/{post_id}/talked-about").get_data(as_text=True)
    assert "A reply under it" not in page and "Replies to a comment" not in page
    assert app.test_client().get(f"/comments/{reply}").status_code == 404
    assert author.get(f"/comments/{reply}").status_code == 303
    page = author.get(f"/{post_id}/talked-about").get_data(as_text=True)
    assert "A reply under it" in page  # moderators see the whole thread


def test_a_kept_comment_never_outlives_what_it_shows(app, make_user, post_id):
    # comments.shown keeps each comment's rendered byline and text; a change made any
    # way at all (here plain SQL, which bumps no version) is shown at the next render.
    app.config["PAGE_CACHE_SECONDS"] = 0
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "First words"))
    visitor = app.test_client()
    url = f"/{post_id}/"

    def page(**headers) -> str:
        return visitor.get(url, headers=headers, follow_redirects=True).get_data(as_text=True)

    assert "First words" in page() and ">reader</a>" in page()
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE comment SET body_html = '<p>Second words</p>' WHERE id = :id"),
            {"id": comment_id},
        )
    shown = page()
    assert "Second words" in shown and "First words" not in shown
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE \"user\" SET username = 'renamed' WHERE username = 'reader'")
        )
    shown = page()
    assert ">renamed</a>" in shown and ">reader</a>" not in shown
    # Words around the text are the reader's language's: a German reader gets German.
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE comment SET edited_at = created_at WHERE id = :id"), {"id": comment_id}
        )
    assert "(edited)" in page()
    assert "(bearbeitet)" in page(**{"Accept-Language": "de"})
    # A deleted comment is "[deleted]" at once, however long its text was kept.
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE comment SET status = 'deleted' WHERE id = :id"), {"id": comment_id}
        )
    assert "Second words" not in page() and "[deleted]" in page()


# --- bans ---------------------------------------------------------------------


def audit_events(app, event: str) -> list[dict]:
    with app.app_context():
        found = connection().execute(
            sa.text("SELECT * FROM audit_log WHERE event = :event ORDER BY id"), {"event": event}
        )
        return [dict(row) for row in found.mappings()]


def test_an_editor_stops_a_reader_commenting_and_lets_them_again(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Before the ban"))
    editor_id = make_user("ed", PW, role="editor")
    editor = login(app, "ed")
    reader_id = user_id(app, "reader")
    assert 'value="1">Stop them commenting' in editor.get("/u/reader").get_data(as_text=True)
    response = editor.post(f"/comments/users/{reader_id}/ban", data={"banned": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/u/reader")
    [entry] = audit_events(app, "comment-ban")
    assert (entry["actor_id"], entry["target_id"]) == (editor_id, reader_id)
    # The banned reader: no form, a 403 that says why, no edit; the old comment stays.
    page = client.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "An editor stopped your account from commenting." in page
    assert 'name="body"' not in page and "Before the ban" in page
    refused = send(app, client, post_id, "After the ban")
    assert refused.status_code == 403
    assert "stopped your account" in refused.get_data(as_text=True)
    edit = client.post(f"/comments/{comment_id}/edit", data={"body": "Sneaky edit"})
    assert edit.status_code == 403
    assert [r["body"] for r in rows(app, post_id)] == ["Before the ban"]
    # Lifted: they comment again, and that too is audited.
    assert "may not comment" in editor.get("/u/reader").get_data(as_text=True)
    editor.post(f"/comments/users/{reader_id}/ban", data={"banned": "0"})
    assert len(audit_events(app, "comment-unban")) == 1
    assert send(app, client, post_id, "After the ban").status_code == 303
    assert len(rows(app, post_id)) == 2


def test_a_ban_is_for_editors_on_lesser_roles_and_says_what_it_needs(app, make_user, post_id):
    make_user("ed", PW, role="editor")
    admin_id = make_user("ada", PW, role="admin")
    editor = login(app, "ed")
    assert editor.post(f"/comments/users/{admin_id}/ban", data={"banned": "1"}).status_code == 403
    ed_id = user_id(app, "ed")
    assert editor.post(f"/comments/users/{ed_id}/ban", data={"banned": "1"}).status_code == 403
    # The post's author moderates its comments but bans nobody.
    author = login(app, "author")
    make_user("reader", PW, role="reader")
    reader_id = user_id(app, "reader")
    assert author.post(f"/comments/users/{reader_id}/ban", data={"banned": "1"}).status_code == 403
    assert "Stop them commenting" not in author.get("/u/reader").get_data(as_text=True)
    bad = editor.post(f"/comments/users/{reader_id}/ban", data={"banned": "yes"})
    assert bad.status_code == 400 and "banned=1" in bad.get_data(as_text=True)
    assert editor.post("/comments/users/999999/ban", data={"banned": "1"}).status_code == 404
    assert audit_events(app, "comment-ban") == []


# --- the comment feed ---------------------------------------------------------


def feed_entries(client, post_id: int, **headers) -> tuple[object, list[dict]]:
    from xml.etree import ElementTree

    response = client.get(f"/{post_id}/comments/feed.atom", headers=headers)
    if response.status_code != 200:
        return response, []
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(response.data)
    entries = [
        {
            "title": e.findtext("a:title", namespaces=ns),
            "author": e.findtext("a:author/a:name", namespaces=ns),
            "content": e.findtext("a:content", namespaces=ns),
            "link": e.find("a:link", ns).get("href"),
        }
        for e in root.findall("a:entry", ns)
    ]
    return response, entries


def test_a_posts_comment_feed_has_what_every_visitor_sees_newest_first(app, make_user, post_id):
    client = approved_reader(app, make_user)
    first = comment_id_of(send(app, client, post_id, "First <script>x()</script> **bold**"))
    hidden = comment_id_of(send(app, client, post_id, "Soon hidden"))
    send(app, client, post_id, "A reply under the hidden one", parent_id=str(hidden))
    gone = comment_id_of(send(app, client, post_id, "Soon deleted"))
    send(app, client, post_id, "Keeps the deleted one as [deleted]", parent_id=str(gone))
    app.config["COMMENTS_MAX_LINKS"] = 0
    send(app, client, post_id, "Held: [cheap](https://spam.example)")  # held: a link
    author = login(app, "author")
    author.post(f"/comments/{hidden}/moderate", data={"action": "hide"})
    client.post(f"/comments/{gone}/delete")
    visitor = app.test_client()
    response, entries = feed_entries(visitor, post_id)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert [e["title"] for e in entries] == ["reader on “Talked about”"] * 2
    assert "Keeps the deleted one" in entries[0]["content"]
    entry = entries[1]
    assert entry["author"] == "reader"
    assert entry["link"].endswith(f"/comments/{first}")
    # Sanitized as on the page: the script is text, the emphasis is markup.
    assert "<strong>bold</strong>" in entry["content"] and "<script>" not in entry["content"]
    # The post's page names the feed.
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert f'href="/{post_id}/comments/feed.atom"' in page


def test_the_comment_feed_follows_each_change_and_answers_304_when_none(app, make_user, post_id):
    client = approved_reader(app, make_user)
    send(app, client, post_id, "One")
    visitor = app.test_client()
    response, entries = feed_entries(visitor, post_id)
    assert len(entries) == 1
    etag = response.headers["ETag"]
    again, _ = feed_entries(visitor, post_id, **{"If-None-Match": etag})
    assert again.status_code == 304
    send(app, client, post_id, "Two")
    changed, entries = feed_entries(visitor, post_id, **{"If-None-Match": etag})
    assert changed.status_code == 200 and len(entries) == 2
    assert "Two" in entries[0]["content"]


def test_a_draft_has_no_comment_feed(app, make_user, make_post):
    author = make_user("author", PW, role="author")
    draft = make_post(author, "Not yet", "Soon", status="draft")
    assert app.test_client().get(f"/{draft}/comments/feed.atom").status_code == 404
    assert login(app, "author").get(f"/{draft}/comments/feed.atom").status_code == 404
    assert app.test_client().get("/999999/comments/feed.atom").status_code == 404


# --- search -------------------------------------------------------------------


def test_the_search_finds_comments_every_reader_sees_and_no_others(
    app, make_user, make_post, post_id
):
    client = approved_reader(app, make_user)
    shown = comment_id_of(send(app, client, post_id, "The zeppelin flew over <b>Berlin</b>"))
    hidden = comment_id_of(send(app, client, post_id, "A zeppelin nobody should find"))
    send(app, client, post_id, "Zeppelin reply under the hidden one", parent_id=str(hidden))
    app.config["COMMENTS_MAX_LINKS"] = 0
    send(app, client, post_id, "Held zeppelin [link](https://spam.example)")
    author = login(app, "author")
    author.post(f"/comments/{hidden}/moderate", data={"action": "hide"})
    # A comment under a post that became a draft is found by nobody either.
    other = make_post(1, "Another", "Text")
    under_draft = comment_id_of(send(app, client, other, "Zeppelin under a draft"))
    with app.app_context(), transaction():
        connection().execute(
            sa.text("UPDATE post SET status = 'draft' WHERE id = :id"), {"id": other}
        )
    for who in (app.test_client(), client, author):  # the same for everyone
        page = who.get("/search?q=zeppelin&in=comments").get_data(as_text=True)
        assert f'href="/comments/{shown}"' in page
        assert "<mark>zeppelin</mark>" in page.lower()
        assert "&lt;b&gt;" in page and "<b>Berlin" not in page  # text, never markup
        for absent in ("nobody should", "under the hidden", "Held zeppelin", "under a draft"):
            assert absent not in page
        assert f"/comments/{under_draft}" not in page
    # The posts' search shows the comments found after the posts.
    page = app.test_client().get("/search?q=zeppelin").get_data(as_text=True)
    assert 'id="comments-found"' in page and f'href="/comments/{shown}"' in page


def test_a_comment_leaves_the_search_when_edited_hidden_or_deleted(app, make_user, post_id):
    client = approved_reader(app, make_user)
    comment_id = comment_id_of(send(app, client, post_id, "Quokka sightings"))
    visitor = app.test_client()

    def found(word: str) -> bool:
        page = visitor.get(f"/search?q={word}&in=comments").get_data(as_text=True)
        return f'href="/comments/{comment_id}"' in page

    assert found("quokka")
    client.post(f"/comments/{comment_id}/edit", data={"body": "Wombat sightings"})
    assert found("wombat") and not found("quokka")
    author = login(app, "author")
    author.post(f"/comments/{comment_id}/moderate", data={"action": "hide"})
    assert not found("wombat")
    author.post(f"/comments/{comment_id}/moderate", data={"action": "unhide"})
    assert found("wombat")
    client.post(f"/comments/{comment_id}/delete")
    assert not found("wombat")
    empty = visitor.get("/search?q=wombat&in=comments").get_data(as_text=True)
    assert "No comments found for “wombat”." in empty


def test_found_comments_are_paged(app, make_user, post_id):
    app.config["POSTS_PER_PAGE"] = 2
    app.config["COMMENTS_DUPLICATE_MINUTES"] = 0
    client = approved_reader(app, make_user)
    ids = [comment_id_of(send(app, client, post_id, f"Capybara number {n}")) for n in range(5)]
    visitor = app.test_client()
    first = visitor.get("/search?q=capybara&in=comments").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/comments/(\d+)"', first)] == ids[::-1][:2]
    third = visitor.get("/search?q=capybara&in=comments&page=3").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/comments/(\d+)"', third)] == [ids[0]]
    assert visitor.get("/search?q=capybara&in=comments&page=4").status_code == 404
    # Under the posts: three, and a link to the rest.
    posts = visitor.get("/search?q=capybara").get_data(as_text=True)
    assert len(re.findall(r'href="/comments/\d+"', posts)) == 3
    assert "in=comments" in posts


def test_migrations_0024_to_0026_round_trip(make_app, empty_database):
    from alembic import command

    from flaskr.db import engine
    from flaskr.schema import alembic_config, upgrade_db

    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context():
        upgrade_db()
        now = utcnow()
        with transaction() as conn:
            conn.execute(sa.text("INSERT INTO \"user\" (username, password) VALUES ('u', 'x')"))
            conn.execute(sa.text("INSERT INTO post (title, body, author_id) VALUES ('t', 'b', 1)"))
            for status in ("held", "published"):
                conn.execute(
                    sa.text(
                        "INSERT INTO comment (post_id, author_id, body, body_html, status, "
                        "created_at) VALUES (1, 1, 'kiwi', '<p>kiwi</p>', :status, :at)"
                    ),
                    {"status": status, "at": now},
                )
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0023")
        with engine().connect() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            assert not tables & {"notification_optout", "comment_fts", "comment_search"}
            assert "comments_banned" not in {c["name"] for c in inspector.get_columns("user")}
            assert "announced" not in {c["name"] for c in inspector.get_columns("comment")}
        upgrade_db()  # the index is filled from the comments already there: published only
        with app.test_request_context():
            from flaskr.search.queries import search_comments

            assert [row["id"] for row in search_comments("kiwi", page=1, per_page=10)] == [2]
        with engine().connect() as conn:
            announced = conn.execute(sa.text("SELECT announced FROM comment ORDER BY id"))
            assert [bool(a) for a in announced.scalars()] == [True, True]  # nobody mailed now


# --- guests -------------------------------------------------------------------


def outbox_rows(app) -> list[dict]:
    with app.app_context():
        found = connection().execute(sa.text("SELECT * FROM outbox ORDER BY id"))
        return [dict(row) for row in found.mappings()]


def guest_send(app, client, post_id: int, body: str, **fields):
    data = {"body": body, "stamp": stamp(app, post_id), "name": "Gus", "email": "Gus@Example.com"}
    return client.post(f"/{post_id}/comments/guest", data={**data, **fields})


def test_guests_are_sent_to_log_in_unless_the_site_takes_their_comments(app, post_id):
    visitor = app.test_client()
    assert visitor.get(f"/{post_id}/comments").headers["Location"] == "/auth/login"
    assert visitor.get(f"/{post_id}/comments/guest").status_code == 404
    assert guest_send(app, visitor, post_id, "Hi").status_code == 404
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "Comment as a guest" not in page
    assert rows(app, post_id) == [] and outbox_rows(app) == []


def test_a_guest_comment_waits_for_its_address_then_for_a_moderator(app, make_user, post_id):
    app.config["COMMENTS_GUESTS"] = True
    visitor = app.test_client()
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "Comment as a guest" in page and 'name="body"' not in page  # kept page: no form
    form = visitor.get(f"/{post_id}/comments/guest")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)
    assert f'action="/{post_id}/comments/guest"' in form.get_data(as_text=True)
    response = guest_send(app, visitor, post_id, "A guest's *thoughts*")
    assert response.status_code == 303
    [row] = rows(app, post_id)
    assert (row["status"], row["author_id"], row["guest_name"]) == ("unverified", None, "Gus")
    assert row["guest_email"] == "gus@example.com"
    # Nobody sees it yet: not visitors, not the post's author, not the queue.
    author = login(app, "author")
    for client in (visitor, author):
        assert "thoughts" not in client.get(f"/{post_id}/", follow_redirects=True).get_data(
            as_text=True
        )
    assert "thoughts" not in author.get("/comments/queue").get_data(as_text=True)
    [mail] = outbox_rows(app)
    assert (mail["recipient"], mail["kind"]) == ("Gus@example.com", "comment-confirm")
    link = re.search(r"http://localhost(/comments/confirm/\S+)", mail["body_text"])[1]
    # Opening the link only asks; the button confirms.
    asked = visitor.get(link)
    assert asked.status_code == 200 and "thoughts" in asked.get_data(as_text=True)
    assert rows(app, post_id)[0]["status"] == "unverified"
    assert visitor.post(link).status_code == 303
    assert rows(app, post_id)[0]["status"] == "held"  # the first comment from this address
    assert visitor.post(link).status_code == 404  # a link works once
    queue = author.get("/comments/queue").get_data(as_text=True)
    assert "thoughts" in queue and "First comment from this guest address" in queue
    comment_id = rows(app, post_id)[0]["id"]
    author.post(f"/comments/{comment_id}/moderate", data={"action": "approve"})
    page = visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)
    assert "<em>thoughts</em>" in page and "Gus</span> <span>(guest)" in page
    assert "/u/Gus" not in page  # a guest has no profile
    # The same address again: shown as soon as it is confirmed.
    guest_send(app, visitor, post_id, "Back again", email="gus@example.com")
    link = re.search(r"http://localhost(/comments/confirm/\S+)", outbox_rows(app)[-1]["body_text"])
    response = visitor.post(link[1])
    assert response.status_code == 303 and "#comment-" in response.headers["Location"]
    assert "Back again" in visitor.get(f"/{post_id}/", follow_redirects=True).get_data(as_text=True)


def test_a_guest_form_that_cannot_be_saved_comes_back_with_what_was_typed(app, post_id):
    app.config["COMMENTS_GUESTS"] = True
    visitor = app.test_client()
    visitor.get(f"/{post_id}/comments/guest")
    for fields, message in (
        ({"name": ""}, "Name is required."),
        ({"email": "not an address"}, "address"),
        ({"website": "http://bot.example"}, "Leave the field"),
    ):
        response = guest_send(app, visitor, post_id, "Kept text", **fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page and "Kept text" in page
    assert rows(app, post_id) == [] and outbox_rows(app) == []


def test_a_guest_link_that_is_made_up_or_expired_does_nothing(app, post_id, monkeypatch):
    app.config["COMMENTS_GUESTS"] = True
    visitor = app.test_client()
    guest_send(app, visitor, post_id, "Never confirmed")
    link = re.search(r"http://localhost(/comments/confirm/\S+)", outbox_rows(app)[0]["body_text"])
    assert visitor.post("/comments/confirm/made-up").status_code == 404
    # EMAIL_CONFIRM_HOURS (48) and a second later: the link's signed time is too old.
    import itsdangerous.timed

    later = time.time() + 48 * 3600 + 1
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = visitor.post(link[1])
    monkeypatch.undo()
    assert response.status_code == 404 and "expired" in response.get_data(as_text=True)
    assert rows(app, post_id)[0]["status"] == "unverified"
    app.config["EMAIL_CONFIRM_HOURS"] = 0
    # Unconfirmed comments are removed once their link expired, when the next guest writes.
    app.config["COMMENTS_DUPLICATE_MINUTES"] = 0
    guest_send(app, visitor, post_id, "Another", email="other@example.com")
    assert [r["body"] for r in rows(app, post_id)] == ["Another"]


# --- guests meet the same rules -----------------------------------------------


def confirm_last(app, visitor, post_id: int) -> str:
    """Follow the newest mailed confirmation link; the newest comment's status after it."""
    link = re.search(r"http://localhost(/comments/confirm/\S+)", outbox_rows(app)[-1]["body_text"])
    assert visitor.post(link[1]).status_code == 303
    return rows(app, post_id)[-1]["status"]


def guest_visitor(app, address: str = "203.0.113.5"):
    """A visitor at `address` on a site that takes guests' comments, without the
    first-comment rule (so what holds a comment is the rule under test)."""
    app.config["COMMENTS_GUESTS"] = True
    app.config["COMMENTS_HOLD_FIRST"] = False
    visitor = app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = address
    return visitor


def test_a_guest_form_sent_faster_than_a_person_writes_is_refused(app, post_id):
    visitor = guest_visitor(app)
    response = guest_send(app, visitor, post_id, "Instant", stamp=stamp(app, post_id, age=0))
    assert response.status_code == 400
    assert "Wait a few seconds" in response.get_data(as_text=True)
    assert rows(app, post_id) == [] and outbox_rows(app) == []
    assert guest_send(app, visitor, post_id, "Instant").status_code == 303  # a minute later
    assert [row["body"] for row in rows(app, post_id)] == ["Instant"]


def test_a_guest_sending_the_same_text_twice_is_refused_and_another_address_is_not(app, post_id):
    visitor = guest_visitor(app)
    assert guest_send(app, visitor, post_id, "Great post!").status_code == 303
    response = guest_send(app, visitor, post_id, "Great post!", email="GUS@example.com")
    assert response.status_code == 400
    assert "already posted" in response.get_data(as_text=True)
    other = guest_send(app, visitor, post_id, "Great post!", email="ann@example.com")
    assert other.status_code == 303
    assert [row["guest_email"] for row in rows(app, post_id)] == [
        "gus@example.com",
        "ann@example.com",
    ]


def test_a_guests_links_and_banned_words_hold_the_comment_once_confirmed(app, post_id):
    visitor = guest_visitor(app)
    app.config["COMMENTS_MAX_LINKS"] = 1
    app.config["COMMENTS_BANNED_WORDS"] = "casino"
    guest_send(app, visitor, post_id, "[a](https://a.example) [b](https://b.example)")
    assert confirm_last(app, visitor, post_id) == "held"
    guest_send(app, visitor, post_id, "Visit my Casino")
    assert confirm_last(app, visitor, post_id) == "held"
    guest_send(app, visitor, post_id, "A kind word and [one link](https://a.example)")
    assert confirm_last(app, visitor, post_id) == "published"
    assert [(row["status"], row["held_reason"]) for row in rows(app, post_id)] == [
        ("held", "links"),
        ("held", "banned-words"),
        ("published", None),
    ]


def test_the_per_address_rate_limit_catches_a_guest_flood_and_lets_another_address_through(
    make_app, make_user, post_id
):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_COMMENT_IP="2 per minute")
    bot = guest_visitor(app)
    sent = [
        guest_send(app, bot, post_id, f"flood {n}", email=f"bot{n}@example.com").status_code
        for n in range(3)
    ]
    assert sent == [303, 303, 429]
    person = guest_visitor(app, "198.51.100.7")
    assert guest_send(app, person, post_id, "a person").status_code == 303
    assert [row["body"] for row in rows(app, post_id)] == ["flood 0", "flood 1", "a person"]


def test_a_hostile_guest_name_is_text_on_the_page_and_in_the_mail(app, make_user, post_id):
    visitor = guest_visitor(app)
    name = '<img src=x onerror="alert(1)">'
    guest_send(app, visitor, post_id, "Hello", name=name)
    [mail] = outbox_rows(app)
    assert name not in mail["body_html"] and "&lt;img src=x" in mail["body_html"]
    assert confirm_last(app, visitor, post_id) == "published"
    page = visitor.get(f"/{post_id}/talked-about").get_data(as_text=True)
    assert name not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_a_signed_in_reader_sent_to_the_guest_form_saves_nothing_there(app, make_user, post_id):
    app.config["COMMENTS_GUESTS"] = True
    client = approved_reader(app, make_user)
    response = guest_send(app, client, post_id, "Through the guest door")
    assert response.status_code == 303 and response.headers["Location"].endswith("#comments")
    assert rows(app, post_id) == [] and outbox_rows(app) == []
