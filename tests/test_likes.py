"""Likes: one per account and post, counted right whichever way they come and go."""

from __future__ import annotations

import re
import threading
import traceback
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.db import connection, utcnow

PW = "a long enough pw"
LIKERS = 8


@pytest.fixture
def post_id(make_user, make_post) -> int:
    """A published post by its author."""
    author = make_user("author", PW, role="author")
    return make_post(author, "Liked post", "Worth liking")


def _login(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PW})
    assert response.status_code == 302
    return client


def _state(app, post_id: int) -> tuple[int, int]:
    """(the post's like count, rows in post_like) for the post."""
    with app.app_context():
        conn = connection()
        count = conn.execute(
            sa.text("SELECT coalesce(sum(likes), 0) FROM post_like_count WHERE post_id = :id"),
            {"id": post_id},
        )
        rows = conn.execute(
            sa.text("SELECT count(*) FROM post_like WHERE post_id = :id"), {"id": post_id}
        )
        return count.scalar_one(), rows.scalar_one()


def _delete_account(app, username: str) -> None:
    """Delete an account's row: what it owns goes by the database's cascades."""
    from flaskr.auth import queries as auth_queries
    from flaskr.db import transaction

    with app.app_context(), transaction():
        user_id = connection().execute(
            sa.text('SELECT id FROM "user" WHERE username = :name'), {"name": username}
        )
        auth_queries.delete_user(user_id.scalar_one())


def _like(client, post_id: int, value: str = "1", **kwargs):
    return client.post(f"/{post_id}/like", data={"like": value}, **kwargs)


def test_a_reader_likes_and_unlikes_and_the_post_page_says_so(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    client = _login(app, "reader")
    response = _like(client, post_id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#likes")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 like<" in page
    assert 'value="0" aria-pressed="true"' in page  # the button takes the like back
    assert _state(app, post_id) == (1, 1)
    assert _like(client, post_id, "0").status_code == 303
    page = client.get(f"/{post_id}/liked-post").get_data(as_text=True)
    assert "0 likes<" in page
    assert 'value="1" aria-pressed="false"' in page
    assert _state(app, post_id) == (0, 0)


def test_liking_twice_counts_once_and_unliking_twice_takes_one_back(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    client = _login(app, "reader")
    for _ in range(3):
        assert _like(client, post_id).status_code == 303
    assert _state(app, post_id) == (1, 1)
    for _ in range(3):
        assert _like(client, post_id, "0").status_code == 303
    assert _state(app, post_id) == (0, 0)


def test_the_script_gets_json_with_the_count_in_words(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    client = _login(app, "reader")
    answer = _like(client, post_id, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.json == {"liked": True, "count": 1, "text": "1 like"}
    answer = _like(client, post_id, "0", headers={"Accept": "application/json"})
    assert answer.json == {"liked": False, "count": 0, "text": "0 likes"}


@pytest.mark.parametrize("value", ["", "2", "yes", "1 ", "true"])
def test_anything_but_1_or_0_is_a_400_that_says_what_to_send(app, make_user, post_id, value):
    make_user("reader", PW, role="reader")
    response = _like(_login(app, "reader"), post_id, value)
    assert response.status_code == 400
    assert "like=1 or like=0" in response.get_data(as_text=True)
    assert _state(app, post_id) == (0, 0)


def test_a_visitor_is_sent_to_log_in_and_nothing_is_counted(client, post_id):
    response = _like(client, post_id)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    page = client.get(f"/{post_id}/liked-post").get_data(as_text=True)
    assert f'<a rel="nofollow" href="/{post_id}/like">Log in to like this post</a>' in page
    assert 'name="like"' not in page  # no button: a visitor's page is kept for every visitor


def test_drafts_and_scheduled_posts_cannot_be_liked_even_by_their_author(app, make_user, make_post):
    author = make_user("author", PW, role="author")
    make_user("reader", PW, role="reader")
    draft = make_post(author, "Draft", "b", status="draft")
    later = make_post(author, "Later", "b", publish_at=utcnow() + timedelta(days=2))
    for username in ("reader", "author"):
        client = _login(app, username)
        for hidden in (draft, later):
            assert _like(client, hidden).status_code == 404
            page = client.get(f"/{hidden}/", follow_redirects=True)
            assert page.status_code == (200 if username == "author" else 404)
            assert 'id="likes"' not in page.get_data(as_text=True)
    assert _like(_login(app, "reader"), 999_999).status_code == 404
    assert _state(app, draft) == (0, 0)
    assert _state(app, later) == (0, 0)


def test_lists_and_the_post_show_the_count_to_whoever_is_not_served_a_kept_page(
    app, make_app, make_user, post_id
):
    make_user("reader", PW, role="reader")
    reader = _login(app, "reader")
    _like(reader, post_id)
    # Signed-in readers are never served kept pages: they see it at once.
    assert re.search(r"1 min read &middot; 1 like\b", reader.get("/").get_data(as_text=True))
    assert "1 like<" in reader.get(f"/{post_id}/liked-post").get_data(as_text=True)
    uncached = make_app(PAGE_CACHE_SECONDS=0).test_client()
    assert "&middot; 1 like" in uncached.get("/").get_data(as_text=True)
    assert "1 like<" in uncached.get(f"/{post_id}/liked-post").get_data(as_text=True)


def test_a_like_never_empties_the_page_cache(app, make_user, post_id):
    # Likes come far more often than edits: a visitor's kept page stays (until
    # PAGE_CACHE_SECONDS), and the content version every kept page and feed
    # validator hangs on does not move.
    from flaskr.blog import queries as blog_queries

    make_user("reader", PW, role="reader")
    visitor = app.test_client()
    kept = visitor.get("/").get_data(as_text=True)
    with app.app_context():
        before = blog_queries.content_version()
    _like(_login(app, "reader"), post_id)
    _like(_login(app, "reader"), post_id, "0")
    with app.app_context():
        assert blog_queries.content_version() == before
    assert visitor.get("/").get_data(as_text=True) == kept


def test_a_deleted_account_takes_its_likes_and_the_count_follows(app, make_user, post_id):
    for n in range(3):
        make_user(f"reader{n}", PW, role="reader")
        _like(_login(app, f"reader{n}"), post_id)
    assert _state(app, post_id) == (3, 3)
    _delete_account(app, "reader1")
    assert _state(app, post_id) == (2, 2)


def test_a_post_back_from_the_trash_has_its_likes_back(app, make_user, post_id):
    for n in range(2):
        make_user(f"reader{n}", PW, role="reader")
        _like(_login(app, f"reader{n}"), post_id)
    author = _login(app, "author")
    assert author.post(f"/{post_id}/delete").status_code == 302
    with app.app_context():
        rows = connection().execute(
            sa.text("SELECT count(*) FROM post_like WHERE post_id = :id"), {"id": post_id}
        )
        assert rows.scalar_one() == 0  # the rows went with the post
    _delete_account(app, "reader0")
    assert author.post(f"/me/trash/{post_id}/restore").status_code == 302
    assert _state(app, post_id) == (1, 1)  # the account deleted meanwhile lost its like


def test_likes_at_the_same_moment_all_count(app, make_user, post_id):
    clients = []
    for n in range(LIKERS):
        make_user(f"liker{n}", PW, role="reader")
        clients.append(_login(app, f"liker{n}"))
    failures: list[str] = []

    def like(client) -> None:
        barrier.wait()
        try:
            # Each account likes twice at once with itself, too: still one like each.
            for value in ("1", "1"):
                response = _like(client, post_id, value)
                if response.status_code != 303:
                    failures.append(f"{response.status_code}: {response.get_data(as_text=True)}")
        except Exception:  # noqa: BLE001 - reported below with its traceback
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=like, args=(c,)) for c in clients + clients]
    barrier = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert _state(app, post_id) == (LIKERS, LIKERS)


def test_unlikes_at_the_same_moment_all_count(app, make_user, post_id):
    clients = []
    for n in range(LIKERS):
        make_user(f"liker{n}", PW, role="reader")
        clients.append(_login(app, f"liker{n}"))
        _like(clients[-1], post_id)
    assert _state(app, post_id) == (LIKERS, LIKERS)
    threads_count = 2 * LIKERS
    barrier = threading.Barrier(threads_count)
    failures: list[str] = []

    def unlike(client) -> None:
        barrier.wait()
        try:
            response = _like(client, post_id, "0")
            if response.status_code != 303:
                failures.append(str(response.status_code))
        except Exception:  # noqa: BLE001 - reported below with its traceback
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=unlike, args=(c,)) for c in clients + clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert _state(app, post_id) == (0, 0)


def test_german_pages_say_the_count_in_german(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    client = _login(app, "reader")
    _like(client, post_id)
    page = client.get(f"/{post_id}/liked-post", headers={"Accept-Language": "de"})
    text = page.get_data(as_text=True)
    assert re.search(r"1 (Like|Gefällt)", text), text


def test_logging_in_from_a_post_comes_back_to_its_like_button(app, make_user, post_id):
    make_user("reader", PW, role="reader")
    client = app.test_client()
    assert client.get(f"/{post_id}/like").headers["Location"] == "/auth/login"
    response = client.post("/auth/login", data={"username": "reader", "password": PW})
    assert response.headers["Location"] == f"/{post_id}/like"
    response = client.get(response.headers["Location"])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{post_id}/liked-post#likes"
    assert _state(app, post_id) == (0, 0)  # a GET likes nothing


def test_a_post_unpublished_after_the_check_gets_no_like(app, make_user, post_id):
    # The view's check and the insert are apart; the insert checks again itself.
    reader = make_user("reader", PW, role="reader")
    with app.app_context():
        from flaskr.db import transaction
        from flaskr.likes import services

        with transaction():
            connection().execute(
                sa.text("UPDATE post SET status = 'draft' WHERE id = :id"), {"id": post_id}
            )
        assert services.set_like(post_id, reader, liked=True) == 0
        assert services.set_like(999_999, reader, liked=True) == 0  # gone: no error either
    assert _state(app, post_id) == (0, 0)


def test_migration_0022_counts_and_downgrades(make_app, empty_database):
    from alembic import command

    from flaskr.db import engine, transaction
    from flaskr.schema import alembic_config, upgrade_db

    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context():
        upgrade_db()
        with engine().connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "0021")
        with engine().connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert not tables & {"post_like", "post_like_count"}
        upgrade_db()
        with transaction() as conn:
            conn.execute(sa.text("INSERT INTO \"user\" (username, password) VALUES ('u', 'x')"))
            conn.execute(sa.text("INSERT INTO post (title, body, author_id) VALUES ('t', 'b', 1)"))
            conn.execute(
                sa.text("INSERT INTO post_like (post_id, user_id, created_at) VALUES (1, 1, :at)"),
                {"at": utcnow()},
            )
        with engine().connect() as conn:
            assert conn.execute(sa.text("SELECT likes FROM post_like_count")).scalar_one() == 1
        with transaction() as conn:
            conn.execute(sa.text('DELETE FROM "user"'))  # the author and liker: both cascades
        with engine().connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM post_like")).scalar_one() == 0
