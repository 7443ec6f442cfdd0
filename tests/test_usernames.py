"""Usernames: one normal form, no invisible characters, no look-alikes, on both databases."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from flaskr.auth.usernames import skeleton_key
from flaskr.db import connection, engine
from flaskr.schema import upgrade_db

PW = "a long enough pw"
CYRILLIC_A = "\u0430"


def _register(client, username: str):
    return client.post("/auth/register", data={"username": username, "password": PW})


def _usernames(app) -> list[str]:
    with app.app_context():
        query = sa.text('SELECT username FROM "user" ORDER BY id')
        return list(connection().execute(query).scalars())


def test_usernames_are_stored_in_nfkc(app, client):
    # Full-width letters and a ligature are compatibility forms of plain ones.
    assert _register(client, "ｐａｙｐａｌ").status_code == 302
    assert _register(client, "ﬁsh").status_code == 302
    assert _usernames(app) == ["paypal", "fish"]


def test_login_normalizes_the_typed_name(client, make_user):
    make_user("paypal", PW)
    response = client.post("/auth/login", data={"username": "ｐａｙｐａｌ", "password": PW})
    assert response.status_code == 302


INVISIBLE = {
    "zero-width space": "ali\u200bce",
    "zero-width joiner": "ali\u200dce",
    "right-to-left override": "\u202ealice",
    "left-to-right isolate": "alice\u2066",
    "arabic letter mark": "ali\u061cce",
    "soft hyphen": "al\u00adice",
    "hangul filler": "\u3164",
    "variation selector": "ali\ufe0fce",
    "word joiner": "al\u2060ice",
    "byte order mark": "\ufeffalice",
    "private use": "alice\ue000",
    "unassigned": "alice\U000e0080",
    "ogham space": "ali\u1680ce",
}


@pytest.mark.parametrize("username", INVISIBLE.values(), ids=INVISIBLE)
def test_invisible_and_formatting_characters_are_refused(app, client, username):
    response = _register(client, username)
    assert response.status_code == 200
    assert "invisible or formatting characters" in response.get_data(as_text=True)
    assert _usernames(app) == []


def test_spaces_inside_a_name_are_still_fine(app, client):
    # A no-break space is a compatibility form of the plain space.
    assert _register(client, "ada\u00a0lovelace").status_code == 302
    assert _usernames(app) == ["ada lovelace"]


LOOK_ALIKES = {
    "cyrillic a": f"p{CYRILLIC_A}ypal",
    "all cyrillic": "\u0440\u0430\u0443\u0440\u0430l",
    "greek rho": "\u03c1aypal",
    "capitals": "PayPal",
    "digit one for l": "paypa1",
    "capital i for l": "paypaI",
    "mathematical letters": "\U0001d52d\U0001d4b6\u1eff\U0001d561\U0001d552\u2113",
}


@pytest.mark.parametrize("username", LOOK_ALIKES.values(), ids=LOOK_ALIKES)
def test_a_look_alike_of_a_taken_name_is_taken(app, client, make_user, username):
    make_user("paypal", PW)
    response = _register(client, username)
    assert response.status_code == 200
    assert "looks too much like an existing one" in response.get_data(as_text=True)
    assert _usernames(app) == ["paypal"]


def test_names_that_only_share_letters_are_not_look_alikes(app, client, make_user):
    make_user("paypal", PW)
    for name in ("paypals", "pay pal", "paypa", "bob"):
        assert _register(client, name).status_code == 302
    assert len(_usernames(app)) == 5


def test_the_index_refuses_look_alikes_written_past_the_service(app, make_user):
    make_user("paypal", PW)
    with app.app_context(), pytest.raises(sa.exc.IntegrityError), engine().begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO "user" (username, username_skeleton, password) VALUES (:u, :k, :p)'
            ),
            {"u": "PAYPAL", "k": skeleton_key("PAYPAL"), "p": "x"},
        )


def test_concurrent_registrations_of_look_alikes_make_one_account(app):
    writers = 6
    names = [f"p{CYRILLIC_A}ypal", "paypal", "PayPal", "paypa1", "PAYPAL", "\u03c1aypal"]
    barrier, statuses, failures = threading.Barrier(writers), [], []

    def register(name: str) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            statuses.append(_register(client, name).status_code)
        except Exception as error:  # a 500 would be one
            failures.append(repr(error))

    threads = [threading.Thread(target=register, args=(name,)) for name in names[:writers]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert sorted(statuses) == [200] * (writers - 1) + [302]
    assert len(_usernames(app)) == 1


# --- migration 0004 on accounts that exist already ---------------------------------


def _alembic(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "flaskr:migrations")
    config.attributes["connection"] = conn
    return config


def test_migration_keeps_accounts_that_already_look_alike(make_app, empty_database, caplog):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    with app.app_context(), engine().connect() as conn:
        with conn.begin():
            command.upgrade(_alembic(conn), "0002")
        with conn.begin():
            for name in ("paypal", f"p{CYRILLIC_A}ypal", "ﬁsh", "bob"):
                conn.execute(
                    sa.text('INSERT INTO "user" (username, password) VALUES (:u, :p)'),
                    {"u": name, "p": "x"},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO post (author_id, title, body, created, published_at) "
                    "VALUES (2, 'Kept', 'body', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        caplog.set_level(logging.WARNING)
    with app.app_context():
        upgrade_db()  # as `flaskr upgrade` runs it (0003 rebuilds tables with foreign keys off)
    with app.app_context(), engine().connect() as conn:
        rows = conn.execute(
            sa.text('SELECT username, username_skeleton FROM "user" ORDER BY id')
        ).all()
        assert conn.execute(sa.text("SELECT count(*) FROM post")).scalar() == 1
    assert [name for name, _ in rows] == ["paypal", f"p{CYRILLIC_A}ypal", "ﬁsh", "bob"]
    keys = [key for _, key in rows]
    # The oldest of two look-alikes holds the key; the other keeps its account.
    assert keys == [skeleton_key("paypal"), None, skeleton_key("fish"), skeleton_key("bob")]
    assert any("looks like 'paypal'" in r.getMessage() for r in caplog.records)
    client = app.test_client()
    # Both still sign in, and so does the name stored before NFKC, typed as stored.
    for name in (f"p{CYRILLIC_A}ypal", "paypal", "ﬁsh"):
        response = client.post("/auth/login", data={"username": name, "password": "x"})
        assert "Incorrect password" in response.get_data(as_text=True), name
    # And no third look-alike can join them.
    assert _register(client, "PAYPAL").status_code == 200
    assert _register(client, "Fish").status_code == 200
