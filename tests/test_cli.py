"""The `flaskr` command: account commands, demo-data, check, serve, and the console script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from flaskr import demo
from flaskr.db import connection, engine, init_db, transaction
from flaskr.schema import current_revision
from flaskr.tags.queries import split_names

FLASKR = str(Path(sys.executable).with_name("flaskr"))
STRONG_KEY = "0123456789abcdef" * 3


def _rows(app, sql: str) -> list:
    with app.app_context():
        return [tuple(row) for row in connection().execute(sa.text(sql))]


def _script_env(app_config, tmp_path, **extra: str) -> dict[str, str]:
    """Environment for running `flaskr` on this test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
    env["FLASKR_DATABASE"] = app_config["DATABASE"]
    if app_config["DATABASE_URL"]:
        env["FLASKR_DATABASE_URL"] = str(app_config["DATABASE_URL"])
    env["FLASKR_SECRET_KEY"] = STRONG_KEY
    env.update(extra)
    return env


def _flaskr(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FLASKR, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


# --- create-user ------------------------------------------------------------------


def test_create_user_prompts_for_the_password_without_echo(app, runner):
    result = runner.invoke(args=["create-user", "alice"], input="a long enough pw\n" * 2)
    assert result.exit_code == 0, result.output
    assert "Created author 'alice' (id 1)." in result.output
    assert "a long enough pw" not in result.output
    ((name, role, password),) = _rows(app, 'SELECT username, role, password FROM "user"')
    assert (name, role) == ("alice", "author")
    assert password.startswith("$argon2id$")
    assert (
        app.test_client()
        .post("/auth/login", data={"username": "alice", "password": "a long enough pw"})
        .headers["Location"]
        == "/"
    )


@pytest.mark.parametrize(
    ("args", "role"),
    [
        (["--admin"], "admin"),
        (["--role", "editor"], "editor"),
        (["--admin", "--role", "admin"], "admin"),
    ],
)
def test_create_user_makes_the_role_asked_for(app, runner, args, role, caplog):
    result = runner.invoke(args=["create-user", *args, "root"], input="a long enough pw\n" * 2)
    assert result.exit_code == 0, result.output
    assert f"Created {role} 'root'" in result.output
    assert _rows(app, 'SELECT username, role FROM "user"') == [("root", role)]
    assert any(
        f"security user-created target_id=1 role={role} via=cli" in r.getMessage()
        for r in caplog.records
    )


def test_create_user_refuses_flags_that_disagree_and_makes_nothing(app, runner):
    result = runner.invoke(
        args=["create-user", "--admin", "--role", "reader", "root"],
        input="a long enough pw\n" * 2,
    )
    assert result.exit_code == 2 and "say different things" in result.output
    result = runner.invoke(args=["create-user", "--role", "owner", "root"], input="x\n" * 2)
    assert result.exit_code == 2 and "'owner' is not one of" in result.output
    assert _rows(app, 'SELECT username FROM "user"') == []


def test_create_user_help_lists_the_roles(runner):
    result = runner.invoke(args=["create-user", "--help"])
    assert result.exit_code == 0
    assert "--admin" in result.output and "reader|author|editor|admin" in result.output


# --- set-role, disable-user, enable-user, reset-password ---------------------------


def _account(app, name: str) -> tuple:
    ((row),) = _rows(app, f"SELECT role, disabled FROM \"user\" WHERE username = '{name}'")
    return row[0], bool(row[1])


def _signed_in(app, name: str = "alice", password: str = "a long enough pw"):
    client = app.test_client()
    client.post("/auth/login", data={"username": name, "password": password})
    assert client.get("/auth/account").status_code == 200
    return client


def test_set_role_changes_what_the_account_may_do_at_its_next_request(
    app, runner, make_user, caplog
):
    make_user("alice")
    client = _signed_in(app)
    assert client.get("/create").status_code == 200
    result = runner.invoke(args=["set-role", "alice", "reader"])
    assert result.exit_code == 0, result.output
    assert "'alice' is now reader (was author)." in result.output
    assert _account(app, "alice") == ("reader", False)
    assert client.get("/create").status_code == 403  # the same session, no longer a writer
    assert any(
        "security role-changed" in r.getMessage() and "old=author new=reader" in r.getMessage()
        for r in caplog.records
    )
    assert "already reader" in runner.invoke(args=["set-role", "alice", "reader"]).output


@pytest.mark.parametrize(
    "args",
    [
        ["set-role", "nobody", "editor"],
        ["disable-user", "nobody"],
        ["enable-user", "nobody"],
        ["reset-password", "nobody", "--password", "a long enough pw"],
    ],
)
def test_account_commands_name_a_missing_account_plainly(app, runner, make_user, args):
    make_user("alice")
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "There is no account named 'nobody'." in result.output
    assert _account(app, "alice") == ("author", False)


def test_set_role_refuses_an_unknown_role(app, runner, make_user):
    make_user("alice")
    result = runner.invoke(args=["set-role", "alice", "owner"])
    assert result.exit_code == 2 and "'owner' is not one of" in result.output
    assert _account(app, "alice") == ("author", False)


def test_disable_user_ends_every_session_at_once_and_enable_lets_it_back(
    app, runner, make_user, caplog
):
    make_user("alice")
    first, second = _signed_in(app), _signed_in(app)
    result = runner.invoke(args=["disable-user", "alice"])
    assert result.exit_code == 0 and "ended all of its sessions" in result.output
    assert _account(app, "alice") == ("author", True)
    for client in (first, second):
        assert client.get("/auth/account").status_code == 302  # signed out
    refused = app.test_client().post(
        "/auth/login", data={"username": "alice", "password": "a long enough pw"}
    )
    assert b"This account is disabled." in refused.data
    result = runner.invoke(args=["enable-user", "alice"])
    assert result.exit_code == 0 and "can sign in again" in result.output
    assert _account(app, "alice") == ("author", False)
    _signed_in(app)
    assert "is not disabled" in runner.invoke(args=["enable-user", "alice"]).output
    events = [r.getMessage() for r in caplog.records if "via=cli" in r.getMessage()]
    assert [e.split()[1] for e in events] == ["user-disabled", "user-enabled"]


def test_reset_password_prompts_without_echo_and_signs_the_account_out(app, runner, make_user):
    make_user("alice")
    client = _signed_in(app)
    result = runner.invoke(args=["reset-password", "alice"], input="a new long password\n" * 2)
    assert result.exit_code == 0, result.output
    assert "a new long password" not in result.output
    assert client.get("/auth/account").status_code == 302
    _signed_in(app, password="a new long password")
    old = app.test_client().post(
        "/auth/login", data={"username": "alice", "password": "a long enough pw"}
    )
    assert b"Incorrect password." in old.data


def test_reset_password_applies_the_password_policy_and_keeps_the_old_one(make_app, make_user):
    app = make_app(PASSWORD_POLICY=True)
    with app.app_context():
        from flaskr.auth.services import register_user

        register_user("alice", "a long enough pw")
    result = app.test_cli_runner().invoke(args=["reset-password", "alice"], input="password1\n" * 2)
    assert result.exit_code == 1 and "most common passwords" in result.output
    _signed_in(app)


def test_create_user_needs_matching_confirmation(app, runner):
    result = runner.invoke(
        args=["create-user", "alice"], input="a long enough pw\nsomething else\n"
    )
    assert result.exit_code != 0
    assert _rows(app, 'SELECT username FROM "user"') == []


def test_create_user_reports_rule_violations(app, runner, make_user):
    make_user("alice")
    result = runner.invoke(args=["create-user", "alice"], input="a long enough pw\n" * 2)
    assert result.exit_code == 1
    assert "User alice is already registered." in result.output


def test_create_user_applies_the_password_policy(make_app):
    runner = make_app(PASSWORD_POLICY=True).test_cli_runner()
    result = runner.invoke(args=["create-user", "alice"], input="password1\n" * 2)
    assert result.exit_code == 1
    assert "most common passwords" in result.output


# --- demo-data --------------------------------------------------------------------


def _demo_posts(app) -> list:
    return _rows(app, "SELECT title, body FROM post ORDER BY id")


def _demo_data(app) -> tuple[list, list]:
    """Every demo post (title, body, author, times apart) and every tag link."""
    posts = _rows(app, "SELECT id, title, body, body_html, author_id FROM post ORDER BY id")
    links = _rows(app, "SELECT post_id, tag_id FROM post_tag ORDER BY post_id, tag_id")
    return posts, links


def test_demo_data_counts_and_determinism(app, runner):
    result = runner.invoke(args=["demo-data", "--users", "3", "--posts", "25", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Added 3 users\b.* 25 posts\.", result.output), result.output
    assert _rows(app, 'SELECT count(*) FROM "user"') == [(3,)]
    first = _demo_posts(app)
    assert len(first) == 25 and len(set(first)) > 20
    with app.app_context():
        init_db()
    runner.invoke(args=["demo-data", "--users", "3", "--posts", "25", "--seed", "7"])
    assert _demo_posts(app) == first
    with app.app_context():
        init_db()
    runner.invoke(args=["demo-data", "--users", "3", "--posts", "25", "--seed", "8"])
    assert _demo_posts(app) != first


def test_demo_data_is_the_same_whatever_the_worker_processes(app, runner, monkeypatch):
    # Chunks of 10 posts: 35 posts are four chunks, made by two worker processes
    # (which finish in any order) or by this process alone.
    monkeypatch.setattr(demo, "CHUNK", 10)
    args = ["demo-data", "--users", "4", "--posts", "35", "--tags", "20", "--seed", "3"]
    result = runner.invoke(args=[*args, "--workers", "2"])
    assert result.exit_code == 0, result.output
    in_workers = _demo_data(app)
    posts, links = in_workers
    assert len(posts) == 35 and len({body for _, _, body, _, _ in posts}) == 35
    assert links and {tag_id for _, tag_id in links} <= set(range(1, 21))
    assert all(html.startswith("<") for *_, html, _ in posts)
    with app.app_context():
        init_db()
    result = runner.invoke(args=[*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert _demo_data(app) == in_workers


def test_demo_data_shows_progress_and_leaves_planner_statistics(app, runner, db_kind):
    result = runner.invoke(args=["demo-data", "--users", "2", "--posts", "30", "--tags", "5"])
    assert result.exit_code == 0, result.output
    assert "Writing 30 posts" in result.output
    if db_kind == "sqlite":
        analysed = "SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl IN ('post', 'post_tag')"
    else:
        # pg_stats has a table's rows only once ANALYZE has sampled it.
        analysed = (
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename IN ('post', 'post_tag')"
        )
    assert sorted(name for (name,) in _rows(app, analysed)) == ["post", "post_tag"]


def _write_posts_one_by_one(make_user, make_post) -> None:
    # Each post written on its own adds a segment to SQLite's index, as a live blog's do.
    author = make_user("alice")
    for number in range(3):
        make_post(author, title=f"Written alone {number}")


def _found_written_alone(app, db_kind) -> list:
    """How many posts the full-text index finds for the words of those posts."""
    if db_kind == "sqlite":
        return _rows(app, "SELECT count(*) FROM post_fts WHERE post_fts MATCH 'written AND alone'")
    return _rows(
        app, "SELECT count(*) FROM post_search WHERE document @@ to_tsquery('written & alone')"
    )


SEGMENTS = "SELECT count(DISTINCT segid) FROM post_fts_idx"


def test_demo_data_leaves_sqlite_s_full_text_indexes_in_one_segment(
    app, runner, make_user, make_post, db_kind
):
    _write_posts_one_by_one(make_user, make_post)
    if db_kind == "sqlite":
        assert _rows(app, SEGMENTS) > [(1,)]
    result = runner.invoke(args=["demo-data", "--users", "2", "--posts", "30", "--tags", "5"])
    assert result.exit_code == 0, result.output
    if db_kind == "sqlite":
        assert _rows(app, SEGMENTS) == [(1,)]
    # PostgreSQL has no segments to merge: on both, the index still finds every post.
    assert _found_written_alone(app, db_kind) == [(3,)]


def test_optimize_merges_a_live_blog_s_search_index_and_keeps_what_it_finds(
    app, runner, make_user, make_post, db_kind
):
    _write_posts_one_by_one(make_user, make_post)
    result = runner.invoke(args=["optimize"])
    assert result.exit_code == 0, result.output
    assert "Done." in result.output
    if db_kind == "sqlite":
        assert _rows(app, SEGMENTS) == [(1,)]
        assert _rows(app, "SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl = 'post'") == [("post",)]
    else:
        analysed = (
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = 'post'"
        )
        assert _rows(app, analysed) == [("post",)]
    assert _found_written_alone(app, db_kind) == [(3,)]
    assert runner.invoke(args=["optimize"]).exit_code == 0  # again: nothing left to do


def test_demo_data_says_who_to_log_in_as(app, runner, make_user):
    make_user("alice")
    few = runner.invoke(args=["demo-data", "--users", "2", "--posts", "0"]).output
    assert "Added 2 users (demo2, demo3), 50 tags and 0 posts." in few
    assert "Log in as any of them with the password 'demo-password-1'." in few
    many = runner.invoke(args=["demo-data", "--users", "4", "--posts", "0"]).output
    assert "Added 4 users (demo4 to demo7)" in many


def test_demo_data_posts_show_on_the_index_and_demo_users_can_log_in(app, runner):
    runner.invoke(args=["demo-data", "--users", "2", "--posts", "12"])
    client = app.test_client()
    assert client.get("/?page=2").status_code == 200
    assert client.get("/?page=3").status_code == 404
    response = client.post("/auth/login", data={"username": "demo1", "password": "demo-password-1"})
    assert response.headers["Location"] == "/"


def test_demo_data_posts_list_the_tags_they_carry(app, runner):
    # demo-data writes each post's tag names itself (on SQLite its tags go in before
    # the post); they must be the ones its tag links name, on every post.
    result = runner.invoke(args=["demo-data", "--users", "2", "--posts", "40", "--tags", "12"])
    assert result.exit_code == 0, result.output
    linked: dict[int, list[str]] = {}
    query = "SELECT pt.post_id, t.name FROM post_tag pt JOIN tag t ON t.id = pt.tag_id"
    for post_id, name in _rows(app, query):
        linked.setdefault(post_id, []).append(name)
    listed = {
        post_id: split_names(names)
        for post_id, names in _rows(app, "SELECT id, tag_names FROM post")
    }
    assert linked and len(listed) == 40
    assert listed == {post_id: sorted(linked.get(post_id, [])) for post_id in listed}


def test_tags_given_before_their_post_are_listed_with_it(app, db_kind):
    # Deferred foreign keys (SQLite) let a post's tags come first, as demo-data's
    # bulk load does: the post picks them up when it has no names of its own.
    # PostgreSQL's foreign keys are never deferred here: there the post comes first.
    user_row = "INSERT INTO \"user\" (id, username, password) VALUES (1, 'a', 'x')"
    post_row = "INSERT INTO post (id, author_id, title, body) VALUES (7, 1, 'T', 'B')"
    links = "INSERT INTO post_tag (post_id, tag_id) VALUES (7, 1), (7, 2)"
    first, then = (links, post_row) if db_kind == "sqlite" else (post_row, links)
    with app.app_context(), transaction() as conn:
        if db_kind == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(sa.text(user_row))
        conn.execute(sa.text("INSERT INTO tag (id, name) VALUES (1, 'late'), (2, 'early')"))
        conn.execute(sa.text(first))
        conn.execute(sa.text(then))
    rows = _rows(app, "SELECT id, tag_names FROM post")
    assert [(post_id, split_names(names)) for post_id, names in rows] == [(7, ["early", "late"])]


def test_demo_data_adds_to_existing_data(app, runner, make_user):
    make_user("alice")
    result = runner.invoke(args=["demo-data", "--users", "2", "--posts", "3"])
    assert result.exit_code == 0, result.output
    names = [name for (name,) in _rows(app, 'SELECT username FROM "user" ORDER BY id')]
    assert names == ["alice", "demo2", "demo3"]


# --- check ------------------------------------------------------------------------


def test_check_reports_every_insecure_setting(runner):
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    for text in ("TESTING is on", "TRUSTED_HOSTS is not set", "SESSION_COOKIE_SECURE is off"):
        assert text in result.output
    assert "WTF_CSRF_ENABLED is off" in result.output


def test_check_passes_a_production_configuration(make_app):
    app = make_app(
        TESTING=False,
        SECRET_KEY=STRONG_KEY,
        TRUSTED_HOSTS=["blog.example"],
        PREFERRED_URL_SCHEME="https",
    )
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("DEBUG", True, "DEBUG is on"),
        ("TRUSTED_HOSTS", None, "TRUSTED_HOSTS is not set"),
        ("SESSION_COOKIE_SECURE", False, "SESSION_COOKIE_SECURE is off"),
        ("RATELIMIT_ENABLED", False, "RATELIMIT_ENABLED is off"),
    ],
)
def test_check_fails_on_each_problem(make_app, setting, value, message):
    settings = {
        "TESTING": False,
        "SECRET_KEY": STRONG_KEY,
        "TRUSTED_HOSTS": ["blog.example"],
        "PREFERRED_URL_SCHEME": "https",
        setting: value,
    }
    result = make_app(**settings).test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert message in result.output
    assert "1 problem(s) found." in result.output


def test_check_through_the_console_script(app_config, tmp_path):
    env = _script_env(app_config, tmp_path)
    result = _flaskr("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "TRUSTED_HOSTS is not set" in result.stderr
    env.update(FLASKR_TRUSTED_HOSTS="blog.example", FLASKR_PREFERRED_URL_SCHEME="https")
    result = _flaskr("check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No problems found." in result.stdout
    env["FLASKR_DEBUG"] = "true"  # the CLI resets app.debug; check still sees the setting
    result = _flaskr("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "DEBUG is on" in result.stderr


def test_console_script_refuses_a_weak_secret(app_config, tmp_path):
    env = _script_env(app_config, tmp_path, FLASKR_SECRET_KEY="dev")
    result = _flaskr("check", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


# --- serve and the command list ---------------------------------------------------


def test_serve_help(runner):
    result = runner.invoke(args=["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--threads"):
        assert option in result.output
    assert "127.0.0.1" in result.output and "5000" in result.output


def test_console_script_lists_every_command(app_config, tmp_path):
    result = _flaskr("--help", env=_script_env(app_config, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "init-db", "upgrade", "create-user", "demo-data", "check"):
        assert command in result.stdout


def test_console_script_runs_upgrade_and_create_user(app, app_config, tmp_path):
    env = _script_env(app_config, tmp_path)
    result = _flaskr("upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    result = subprocess.run(
        [FLASKR, "create-user", "bob", "--password", "a long enough pw"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert _rows(app, 'SELECT username FROM "user"') == [("bob",)]


def test_serve_migrates_an_empty_database_and_prints_its_address(empty_database, tmp_path):
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _script_env(empty_database, tmp_path)
    process = subprocess.Popen(
        [FLASKR, "serve", "--workers", "1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[0].strip() == "Applied database migrations."
        assert f"flaskr is serving at http://127.0.0.1:{port}/ with 1 worker(s)" in lines[1]
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port)) as sock:
                    sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    assert sock.recv(100).startswith(b"HTTP/1.0 200")
                    break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.db_independent  # the suite's own rule: the database under it changes nothing
def test_ci_mode_fails_a_run_with_a_skipped_test(tmp_path):
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\n"
        "def test_skipped():\n    pytest.skip('no database here')\n"
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "conftest",
        "-p",
        "no:cacheprovider",
        str(tmp_path / "test_skips.py"),
    ]
    env = {
        # Not under coverage: these runs test the suite's conftest, not flaskr.
        **{k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")},
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    relaxed = subprocess.run(
        command,
        env={**env, "FLASKR_CI": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert relaxed.returncode == 0, relaxed.stdout
    strict = subprocess.run(
        command,
        env={**env, "FLASKR_CI": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert strict.returncode == 1, strict.stdout
    assert "1 test(s) skipped; in CI every test must run." in strict.stdout


def test_check_reports_a_weak_secret_key(make_app):
    # Only a testing app can even start with one; check says so all the same.
    result = make_app(SECRET_KEY="dev").test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "SECRET_KEY is weak" in result.output


@pytest.mark.parametrize(
    "args",
    [["set-role", "root", "reader"], ["disable-user", "root"], ["reset-password", "root"]],
    ids=lambda args: args[0],
)
def test_an_account_command_on_a_database_never_set_up_says_so_in_one_sentence(
    make_app, empty_database, args
):
    app = make_app(**empty_database)
    result = app.test_cli_runner().invoke(args=args, input="a long enough pw\n" * 2)
    assert result.exit_code == 1, result.output
    assert "has no flaskr tables yet" in result.output
    assert "run `flaskr upgrade` first" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


def test_create_user_on_a_new_site_sets_the_database_up_first(make_app, empty_database):
    # The first admin is made before the site ever started: no table yet.
    app = make_app(**empty_database)
    result = app.test_cli_runner().invoke(
        args=["create-user", "--admin", "root"], input="a long enough pw\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'root'" in result.output
    assert _rows(app, 'SELECT username, role FROM "user"') == [("root", "admin")]


def test_create_user_leaves_the_schema_alone_when_auto_migrate_is_off(make_app, empty_database):
    app = make_app(AUTO_MIGRATE=False, **empty_database)
    result = app.test_cli_runner().invoke(
        args=["create-user", "root"], input="a long enough pw\n" * 2
    )
    assert result.exit_code == 1 and "has no flaskr tables yet" in result.output
    with app.app_context(), engine().connect() as conn:
        assert current_revision(conn) is None
