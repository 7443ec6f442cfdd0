"""Accounts: password hashing and policy, login timing, sessions, the account page."""

from __future__ import annotations

import statistics
import time
import unicodedata

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from flaskr.auth import services
from flaskr.auth.tables import USERNAME_MAX, user
from flaskr.db import connection, transaction

PW = "a long enough pw"


def _stored_hash(app, username: str) -> str:
    with app.app_context():
        query = sa.text('SELECT password FROM "user" WHERE username = :name')
        return connection().execute(query, {"name": username}).scalar_one()


# --- hashing --------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2id(app, auth):
    assert auth.register("alice", PW).status_code == 302
    assert _stored_hash(app, "alice").startswith("$argon2id$")


@pytest.mark.real_hashing
def test_argon2id_uses_the_library_recommended_cost(app, make_user):
    make_user("alice", PW)
    stored = _stored_hash(app, "alice")
    assert stored.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(stored)


@pytest.mark.parametrize(("username", "password"), [("test", "test"), ("scrypt", "other")])
def test_legacy_hash_still_verifies_and_is_upgraded_on_login(
    app, client, auth, data_sql, username, password
):
    legacy = _stored_hash(app, username)
    assert not legacy.startswith("$argon2")
    assert auth.login(username, password).headers["Location"] == "/"
    upgraded = _stored_hash(app, username)
    assert upgraded.startswith("$argon2id$")
    auth.logout()
    assert auth.login(username, password).headers["Location"] == "/"


@pytest.mark.real_hashing
def test_a_cheaper_argon2_hash_is_upgraded_on_login(app, auth):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PW)
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text('INSERT INTO "user" (username, password) VALUES (:u, :p)'),
            {"u": "alice", "p": weak},
        )
    assert auth.login("alice", PW).headers["Location"] == "/"
    upgraded = _stored_hash(app, "alice")
    assert upgraded != weak
    assert not PasswordHasher().check_needs_rehash(upgraded)


def test_legacy_hash_is_kept_after_a_wrong_password(app, auth, data_sql):
    legacy = _stored_hash(app, "test")
    response = auth.login("test", "wrong")
    assert b"Incorrect password." in response.data
    assert _stored_hash(app, "test") == legacy


# --- policy ---------------------------------------------------------------------


@pytest.fixture
def policy_client(make_app):
    """A client of an app with the password policy on, as in production."""
    return make_app(PASSWORD_POLICY=True).test_client()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Password is required."),
        ("short77", "at least 8 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("password1", "one of the most common passwords"),
        ("Password1", "one of the most common passwords"),
    ],
)
def test_password_policy_rejects(policy_client, password, message):
    response = policy_client.post(
        "/auth/register", data={"username": "alice", "password": password}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "password",
    ["eightchr", "x" * 1024, "alllowercasewords", "пароль-ñ-😀😀", "   spaces in it   "],
)
def test_password_policy_accepts_any_unicode_without_composition_rules(policy_client, password):
    response = policy_client.post(
        "/auth/register", data={"username": "alice", "password": password}
    )
    assert response.headers["Location"] == "/auth/login"
    response = policy_client.post("/auth/login", data={"username": "alice", "password": password})
    assert response.headers["Location"] == "/"


def test_minimum_length_is_a_setting(make_app):
    client = make_app(PASSWORD_POLICY=True, PASSWORD_MIN_LENGTH=12).test_client()
    response = client.post("/auth/register", data={"username": "a", "password": "elevenchars"})
    assert b"at least 12 characters" in response.data


def test_policy_is_off_under_testing_unless_set(app, auth):
    assert app.config["PASSWORD_POLICY"] is False
    assert auth.register("a", "a").headers["Location"] == "/auth/login"


# --- login timing ---------------------------------------------------------------


@pytest.mark.real_hashing
def test_unknown_username_costs_the_same_as_a_wrong_password(app, make_user):
    make_user("alice", PW)

    def attempt(username: str) -> tuple[float, float]:
        with app.test_request_context():
            wall, cpu = time.perf_counter(), time.process_time()
            with pytest.raises(services.ValidationError):
                services.authenticate(username, "not the password")
            return time.perf_counter() - wall, time.process_time() - cpu

    def ratios() -> tuple[float, float]:
        unknown, wrong = [], []
        for _ in range(7):  # interleaved, so load on the machine hits both alike
            unknown.append(attempt("nobody"))
            wrong.append(attempt("alice"))
        # Wall time: the fastest of each, since other processes only ever add to it (the
        # median of a loaded CI run drifted to 1.26 and took up to six rounds, 40 s).
        # CPU time: the median, which other processes do not inflate.
        return (
            min(u[0] for u in unknown) / min(w[0] for w in wrong),
            statistics.median(u[1] for u in unknown) / statistics.median(w[1] for w in wrong),
        )

    attempt("alice")
    attempt("nobody")  # warm both paths (the dummy hash is made once)
    # Wall time is what an attacker sees, but other processes on a busy machine
    # add noise: measure again before calling it a failure. A real leak (no hash
    # for unknown names) is 100 times faster and fails every round. (Three rounds
    # were not enough in CI, where both databases' suites run at once: one run
    # measured 1.26 three times in a row; alone, both databases measure 0.95-1.06.)
    for _ in range(6):
        wall, cpu = ratios()
        assert 0.8 <= cpu <= 1.25, cpu
        if 0.8 <= wall <= 1.2:
            break
    assert 0.8 <= wall <= 1.2, wall


# --- form rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", PW, "Username is required."),
        ("alice", "", "Password is required."),
        (" alice", PW, "Username cannot start or end with spaces."),
        ("alice ", PW, "Username cannot start or end with spaces."),
        ("two\nlines", PW, "Username contains characters that are not allowed."),
    ],
)
def test_register_validates_input(app, auth, username, password, message):
    response = auth.register(username, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert connection().execute(sa.text('SELECT count(*) FROM "user"')).scalar() == 0


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Username is required."),
        (" bob", "Username cannot start or end with spaces."),
        ("bob\u3000", "Username cannot start or end with spaces."),  # a space once normalized
        ("two\nlines", "Username contains characters that are not allowed."),
        ("x" * (USERNAME_MAX + 1), f"Username is too long (at most {USERNAME_MAX} characters)."),
        (
            "bob\u200b",
            "Username cannot contain invisible or formatting characters "
            "(such as zero-width spaces or text-direction marks).",
        ),
        ("alice", "User alice is already registered."),
        (
            "Alice",
            "The username Alice looks too much like an existing one. Please choose another.",
        ),
    ],
)
def test_registering_says_exactly_what_is_wrong(app, make_user, username, message):
    make_user("alice", PW)
    with app.app_context():
        with pytest.raises(services.ValidationError) as refused:
            services.register_user(username, PW)
        assert str(refused.value) == message
        assert connection().execute(sa.text('SELECT count(*) FROM "user"')).scalar() == 1


def test_the_exact_name_of_an_account_without_a_look_alike_key_is_already_registered(app):
    """Accounts that already looked alike before 0004 keep a NULL key: the name itself
    is still taken, and said to be (not mistaken for a look-alike of the other)."""
    with app.app_context():
        services.register_user("paypal", PW)
        with transaction() as conn:
            conn.execute(sa.insert(user).values(username="PayPal", password="x"))
        with pytest.raises(services.ValidationError) as refused:
            services.register_user("PayPal", PW)
    assert str(refused.value) == "User PayPal is already registered."


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("", "x", "Username is required."), ("alice", "", "Password is required.")],
)
def test_login_validates_input(auth, make_user, username, password, message):
    make_user("alice", PW)
    assert message in auth.login(username, password).get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", PW, "Username is required."),
        ("alice", "", "Password is required."),
        ("nobody", PW, "Incorrect username."),
        ("alice", "wrong", "Incorrect password."),
    ],
)
def test_signing_in_says_exactly_what_is_wrong(app, make_user, username, password, message):
    make_user("alice", PW)
    with app.app_context(), pytest.raises(services.ValidationError) as refused:
        services.authenticate(username, password)
    assert str(refused.value) == message


def test_a_disabled_account_is_told_so_only_with_the_right_password(app, make_user):
    alice = make_user("alice", PW)
    with app.app_context():
        services.disable_user(alice)
        with pytest.raises(services.ValidationError) as refused:
            services.authenticate("alice", "wrong")
        assert str(refused.value) == "Incorrect password."
        with pytest.raises(services.ValidationError) as refused:
            services.authenticate("alice", PW)
        assert str(refused.value) == "This account is disabled."


@pytest.mark.parametrize("password", ["", "wrong"])
def test_changing_the_password_or_deleting_the_account_needs_the_current_one(
    app, make_user, password
):
    alice = make_user("alice", PW)
    with app.app_context():
        for action in (
            lambda: services.change_password(alice, password, "a new long password", None),
            lambda: services.delete_account(alice, password),
        ):
            with pytest.raises(services.ValidationError) as refused:
                action()
            assert str(refused.value) == "Incorrect password."
        assert services.authenticate("alice", PW) == alice


def test_a_password_check_for_an_account_deleted_meanwhile_is_a_wrong_password(app, make_user):
    alice = make_user("alice", PW)
    with app.app_context():
        services.delete_account(alice, PW)
        with pytest.raises(services.ValidationError) as refused:
            services.change_password(alice, PW, "a new long password", None)
    assert str(refused.value) == "Incorrect password."


def test_a_nul_in_a_password_is_refused_by_the_service_too(app):
    # The web layer answers 400 first; scripts calling the service get a clear error.
    with app.app_context(), pytest.raises(services.ValidationError, match="not allowed"):
        services.register_user("alice", "pass\x00word")


def test_a_password_is_checked_whole_never_cut_down(app, auth):
    """A tutorial-era hash had no length limit; a longer password that only starts with
    the account's one is still wrong."""
    old = "x" * 2048
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text('INSERT INTO "user" (username, password) VALUES (:u, :p)'),
            {"u": "old", "p": generate_password_hash(old)},
        )
    assert b"Incorrect password." in auth.login("old", old + "y").data
    assert auth.login("old", old).headers["Location"] == "/"


def test_a_corrupt_stored_hash_is_a_wrong_password_not_an_error(app, auth):
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text('INSERT INTO "user" (username, password) VALUES (:u, :p)'),
            {"u": "broken", "p": "pbkdf2:sha256:notanumber$salt$hash"},
        )
    response = auth.login("broken", "anything at all")
    assert response.status_code == 200
    assert b"Incorrect password." in response.data


# --- defaults and bounds --------------------------------------------------------


def test_a_new_account_gets_the_site_s_default_role_unless_another_is_asked(app, auth):
    assert auth.register("alice", PW).headers["Location"] == "/auth/login"
    with app.app_context():
        services.register_user("bob", PW)
        services.register_user("root", PW, role="admin")
        services.register_user("ed", PW, role="editor")
        rows = connection().execute(sa.select(user.c.username, user.c.role)).all()
    assert dict(rows) == {"alice": "author", "bob": "author", "root": "admin", "ed": "editor"}


def test_a_site_that_registers_readers_gives_registrations_the_reader_role(make_app):
    app = make_app(DEFAULT_ROLE="reader")
    client = app.test_client()
    client.post("/auth/register", data={"username": "rita", "password": PW})
    with app.app_context():
        assert connection().execute(sa.select(user.c.role)).scalar_one() == "reader"


@pytest.mark.parametrize("role", ["editor", "admin", "owner", ""])
def test_a_default_role_strangers_must_not_get_stops_the_start(make_app, role):
    from flaskr.config import ConfigError

    with pytest.raises(ConfigError, match="DEFAULT_ROLE"):
        make_app(DEFAULT_ROLE=role)


def test_an_unknown_role_is_refused_and_no_account_is_made(app):
    with app.app_context():
        with pytest.raises(ValueError, match="unknown role"):
            services.register_user("mallory", PW, role="superuser")
        assert connection().execute(sa.select(sa.func.count()).select_from(user)).scalar() == 0


def test_a_username_of_the_maximum_length_registers_and_signs_in(auth):
    longest = "x" * USERNAME_MAX
    assert auth.register(longest, PW).headers["Location"] == "/auth/login"
    assert auth.login(longest, PW).headers["Location"] == "/"
    auth.logout()
    # A longer name that starts with it is another name, not this account.
    assert b"Incorrect username." in auth.login(longest + "x", PW).data


def test_the_limit_counts_typed_characters_at_sign_in_as_at_registration(app, make_user):
    """macOS keyboards send an accent as a letter and a combining mark: typed that way,
    this name is one character over the limit, though stored it is not."""
    name = "\u00e9" + "x" * (USERNAME_MAX - 1)
    alice = make_user(name, PW)
    typed = unicodedata.normalize("NFD", name)
    assert len(typed) == USERNAME_MAX + 1
    with app.app_context():
        assert services.authenticate(name, PW) == alice
        with pytest.raises(services.ValidationError) as refused:
            services.register_user(typed, PW)
        assert str(refused.value) == f"Username is too long (at most {USERNAME_MAX} characters)."
        with pytest.raises(services.ValidationError) as refused:
            services.authenticate(typed, PW)
        assert str(refused.value) == "Incorrect username."


def test_a_longer_name_is_never_cut_down_to_another_accounts_name(app, make_user):
    """The start of a long name, normalized, can be a shorter account's name."""
    make_user("\u00e9" * 75 + "x", PW)
    typed = "e\u0301" * 75 + "xyz"  # "\u00e9" * 75 + "xyz" once normalized
    with app.app_context(), pytest.raises(services.ValidationError) as refused:
        services.authenticate(typed, PW)
    assert str(refused.value) == "Incorrect username."


@pytest.mark.parametrize(
    "username",
    [
        "x" * (USERNAME_MAX + 1),
        # 150 characters typed, 151 once normalized: the ligature is two letters.
        "\ufb01" + "x" * (USERNAME_MAX - 1),
    ],
    ids=["typed", "normalized"],
)
def test_a_username_one_character_too_long_is_refused_with_the_limit(app, auth, username):
    response = auth.register(username, PW)
    assert response.status_code == 200
    assert f"Username is too long (at most {USERNAME_MAX} characters)." in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert connection().execute(sa.text('SELECT count(*) FROM "user"')).scalar() == 0


# --- feedback ------------------------------------------------------------------------


def test_registering_says_the_account_is_ready_on_the_login_page(client):
    response = client.post("/auth/register", data={"username": "alice", "password": "pw alice"})
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Account created. You can log in now." in page
    assert "Account created" not in client.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_a_refused_form_keeps_the_username_typed_escaped(client, make_user, path):
    make_user("taken")
    # Too long to register: refused on both forms.
    for name in ("x" * 151 + '"><script>x</script>', "taken"):
        page = client.post(path, data={"username": name, "password": "x"}).get_data(as_text=True)
        escaped = name.replace("&", "&amp;").replace('"', "&#34;").replace("<", "&lt;")
        assert f'value="{escaped.replace(">", "&gt;")}"' in page
        assert "<script>x" not in page


def test_the_login_form_starts_empty(client):
    assert 'value=""' in client.get("/auth/login").get_data(as_text=True)


def test_logging_out_says_so_once(client, auth, make_user):
    make_user("alice", "pw alice")
    auth.login("alice", "pw alice")
    assert auth.logout().headers["Location"] == "/"
    assert "Logged out." in client.get("/").get_data(as_text=True)
    assert "Logged out." not in client.get("/").get_data(as_text=True)
