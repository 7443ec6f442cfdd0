"""Fixtures shared by every test: the database (SQLite or PostgreSQL), apps, clients, factories.

FLASKR_TEST_DATABASE_URL picks the database: unset, each test gets its own SQLite
file in tmp_path (copied from one migrated template); set to a PostgreSQL URL, the
run gets its own schema, migrated once and emptied before each test.
In CI (FLASKR_CI=1) a skipped test fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache

from flaskr import create_app
from flaskr.auth import passwords
from flaskr.db import kept, notified

TEST_DATABASE_URL = os.environ.get("FLASKR_TEST_DATABASE_URL", "").strip()
IN_CI = os.environ.get("FLASKR_CI", "") not in ("", "0", "false")
#: Settings from the developer's shell must not leak into tests; these two steer the run.
KEEP_ENV = {"FLASKR_TEST_DATABASE_URL", "FLASKR_CI"}
#: argon2id at the library's cost takes ~0.1 s a hash; tests that don't measure
#: hashing use the same algorithm at minimal cost (mark real_hashing to opt out).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by every app this test process builds.

    Each test builds its own app, and each app compiled every template it rendered
    anew: about a quarter of a page test's time. Jinja's bytecode cache checks each
    template's source against what was compiled, and the key names the language the
    template was compiled in (ConstantMessages writes translations into it).
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        from flaskr.i18n.languages import chosen

        return f"{chosen()[0]}|{super().get_cache_key(name, filename)}"

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


SHARED_TEMPLATE_CODE = _SharedTemplateCode()


def _share_url_builders() -> None:
    """Compile each shape of URL builder once per test process, not once per app.

    Werkzeug writes and compiles a Python function to build each rule's URLs, twice
    per rule, every time an app registers its routes: most of create_app()'s time,
    paid by every test that builds an app. The function depends only on the rule's
    parts, the names (and converted values) of its defaults and append_unknown; the
    rule itself comes in as its first argument. With another werkzeug (no _trace or
    _compile_builder) nothing is shared and every app compiles its own.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or not hasattr(Rule("/"), "_trace"):
        return
    builders: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        defaults = tuple(
            (str(key), self._converters[key].to_url(value) if key in self._converters else None)
            for key, value in (self.defaults or {}).items()
        )
        key = (tuple(self._trace), defaults, append_unknown)
        found = builders.get(key)
        if found is None:
            found = builders[key] = compile_builder(self, append_unknown)
        return found

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


def pytest_configure(config: pytest.Config) -> None:
    """Register this suite's own markers."""
    config.addinivalue_line("markers", "real_hashing: use argon2id at production cost")


# --- database selection -------------------------------------------------------


@pytest.fixture(scope="session")
def db_kind() -> str:
    """'sqlite' or 'postgresql': the database this run tests against."""
    if not TEST_DATABASE_URL:
        return "sqlite"
    return sa.make_url(TEST_DATABASE_URL).get_backend_name()


#: A test's database need not survive a power loss: commits skip the wait for the disk
#: (on SQLite the sync was a fifth of a typical test's time). The durable defaults are
#: checked by test_db.py with these left out (durable_settings).
FAST_COMMITS = {"SQLITE_SYNCHRONOUS": "NORMAL"}
PG_FAST_COMMITS = "-csynchronous_commit=off"


def _schema_url(base: str, schema: str, *, fast_commits: bool = True) -> str:
    """The base URL with every connection's search_path set to schema (and, unless
    asked not to, commits that do not wait for the disk)."""
    url = sa.make_url(base)
    options = f"-csearch_path={schema}" + (f" {PG_FAST_COMMITS}" if fast_commits else "")
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture
def durable_settings(
    database: dict[str, Any], _pg_database: dict[str, Any] | None
) -> dict[str, Any]:
    """This test's database settings as a real site has them: commits wait for the disk."""
    settings = {"TESTING": True, "MAIL_SENDER": False, **database}
    if _pg_database is not None:
        settings["DATABASE_URL"] = _schema_url(
            TEST_DATABASE_URL, _pg_database["schema"], fast_commits=False
        )
    return settings


@pytest.fixture(scope="session")
def _pg_database(db_kind: str) -> Iterator[dict[str, Any] | None]:
    """On PostgreSQL: this run's own migrated schema, dropped at the end."""
    if db_kind != "postgresql":
        yield None
        return
    schema = f"flaskr_t_{os.getpid()}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        _drop_abandoned_schemas(conn)
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(TEST_DATABASE_URL, schema)
    state = {"url": url, "schema": schema, "engine": sa.create_engine(url, pool_size=1)}
    _pg_rebuild(state)
    try:
        yield state
    finally:
        state["engine"].dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _drop_abandoned_schemas(conn: sa.Connection) -> None:
    """Drop schemas of earlier runs on this machine whose process is gone (killed runs)."""
    names = conn.exec_driver_sql(
        "SELECT nspname FROM pg_namespace WHERE nspname ~ '^flaskr_t_[0-9]+(_empty|_snap_\\w+)?$'"
    ).scalars()
    for name in list(names):
        pid = int(name.split("_")[2])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        except PermissionError:
            pass  # alive, another user's run


def _pg_rebuild(state: dict[str, Any]) -> None:
    """Create the schema from scratch and remember its tables and head revision."""
    from flaskr.db import init_db
    from flaskr.schema import current_revision

    app = create_app({"TESTING": True, "DATABASE_URL": state["url"], "AUTO_MIGRATE": False})
    with app.app_context():
        init_db()
    app.extensions["flaskr.engine"].dispose()
    with state["engine"].connect() as conn:
        state["revision"] = current_revision(conn)
        state["tables"] = _pg_tables(conn)
        state["reset_sql"] = _pg_reset_sql(conn, state["tables"])


def _pg_tables(conn: sa.Connection) -> set[str]:
    """The schema's tables, alembic_version excluded."""
    names = conn.execute(
        sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    ).scalars()
    return set(names) - {"alembic_version"}


def _pg_reset(state: dict[str, Any]) -> None:
    """Empty every table, or rebuild the schema if a test changed it."""
    with state["engine"].connect() as conn:
        if _pg_intact(conn, state):
            conn.exec_driver_sql("SET lock_timeout = '10s'")
            conn.exec_driver_sql(state["reset_sql"])
            conn.commit()
            # The counter went back to 1 with no trigger to say so.
            notified.committed()
            return
    _pg_rebuild(state)
    notified.committed()


def _pg_intact(conn: sa.Connection, state: dict[str, Any]) -> bool:
    """True when the schema still has the tables and revision it was built with.

    Asked before every test with two plain queries: Alembic's own question
    (current_revision) reflects the version table first, a third of the reset's time.
    """
    tables = conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).scalars()
    if set(tables) != state["tables"] | {"alembic_version"}:
        return False
    version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return version == [state["revision"]]


def _pg_reset_sql(conn: sa.Connection, tables: set[str]) -> str:
    """SQL that empties the tables and restarts their id sequences.

    Measured on this machine: TRUNCATE ... RESTART IDENTITY CASCADE of three tables
    takes 20-40 ms; DELETE with foreign-key triggers paused (superuser only) 1.5 ms.
    """
    superuser = conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    names = [f'"{name}"' for name in sorted(tables)]
    # The page cache's counter row is part of the schema, not data: put it back.
    restore = (
        " INSERT INTO content_version (id, version) VALUES (1, 1);"
        if "content_version" in tables
        else ""
    )
    if not superuser.scalar():
        return f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE;" + restore
    sequences = conn.execute(
        sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
    ).scalars()
    return " ".join(
        ["SET LOCAL synchronous_commit = off; SET LOCAL session_replication_role = replica;"]
        + [f"DELETE FROM {name};" for name in names]
        + [f'ALTER SEQUENCE "{name}" RESTART;' for name in sequences]
        + [restore]
    )


@pytest.fixture(scope="session")
def _sqlite_template(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """On SQLite: one migrated database file that each test copies (cheaper than migrating)."""
    if db_kind != "sqlite":
        return None
    from flaskr.schema import upgrade_db

    path = str(tmp_path_factory.mktemp("template") / "flaskr.sqlite")
    app = create_app({"TESTING": True, "DATABASE": path, "AUTO_MIGRATE": False})
    with app.app_context():
        upgrade_db()
    # Disposing closes the last connection, which checkpoints the WAL into the file.
    app.extensions["flaskr.engine"].dispose()
    return path


@pytest.fixture
def database(
    db_kind: str,
    _pg_database: dict[str, Any] | None,
    _sqlite_template: str | None,
    tmp_path: Any,
) -> dict[str, Any]:
    """This test's empty, migrated database: the DATABASE / DATABASE_URL settings to reach it."""
    sqlite_file = str(tmp_path / "flaskr.sqlite")
    if _pg_database is not None:
        _pg_reset(_pg_database)
        # DATABASE stays a tmp_path file: the rate-limit storage lives beside it.
        return {"DATABASE": sqlite_file, "DATABASE_URL": _pg_database["url"]}
    assert _sqlite_template is not None
    shutil.copy(_sqlite_template, sqlite_file)  # with its 0600 mode
    return {"DATABASE": sqlite_file, "DATABASE_URL": None}


@pytest.fixture
def empty_database(db_kind: str, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """Settings for a second database with no tables at all (a fresh install)."""
    sqlite_file = str(tmp_path / "empty" / "flaskr.sqlite")
    if db_kind != "postgresql":
        yield {"DATABASE": sqlite_file, "DATABASE_URL": None}
        return
    schema = f"flaskr_t_{os.getpid()}_empty"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"DATABASE": sqlite_file, "DATABASE_URL": _schema_url(TEST_DATABASE_URL, schema)}
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


# --- snapshots of an expensive setup -------------------------------------------


@pytest.fixture(scope="session")
def _snapshots(
    _pg_database: dict[str, Any] | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Where `snapshot` keeps what it saved: files on SQLite, schemas on PostgreSQL."""
    store: dict[str, Any] = {"folder": tmp_path_factory.mktemp("snapshots"), "saved": {}}
    store["enabled"] = True
    if _pg_database is not None:
        # The restore pauses foreign keys, which takes a superuser; others build each time.
        with _pg_database["engine"].connect() as conn:
            store["enabled"] = bool(
                conn.exec_driver_sql(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                ).scalar()
            )
    yield store
    if _pg_database is not None:
        with _pg_database["engine"].connect() as conn:
            for saved in store["saved"].values():
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{saved["schema"]}" CASCADE')
            conn.commit()


@pytest.fixture
def snapshot(
    app: Flask, _snapshots: dict[str, Any], _pg_database: dict[str, Any] | None
) -> Callable[[str, Callable[[], Any]], Any]:
    """snapshot(name, build): build() the first time in a run, then save the database and
    the media folder; later tests get that saved state back instead of building it again.

    For a setup that many tests repeat unchanged (test_roles builds the same site for
    each of ~400 tests): restoring costs a file copy on SQLite and one INSERT per table
    on PostgreSQL, building it tens of milliseconds. What build() returns must be data
    (ids, names): each test gets its own copy.
    """
    import copy

    def restore_or_build(name: str, build: Callable[[], Any]) -> Any:
        if not _snapshots["enabled"]:
            return build()
        saved = _snapshots["saved"].get(name)
        if saved is None:
            value = build()
            saved = _save_snapshot(app, name, _snapshots["folder"], _pg_database)
            saved["value"] = copy.deepcopy(value)
            _snapshots["saved"][name] = saved
            return value
        _restore_snapshot(app, saved, _pg_database)
        return copy.deepcopy(saved["value"])

    return restore_or_build


def _media_folder(app: Flask) -> Path:
    return Path(app.config.get("MEDIA_FOLDER") or Path(app.instance_path) / "media")


def _save_snapshot(
    app: Flask, name: str, folder: Path, pg: dict[str, Any] | None
) -> dict[str, Any]:
    """Copy the app's database and media folder aside, under name."""
    saved: dict[str, Any] = {"media": folder / f"{name}-media"}
    media = _media_folder(app)
    if media.exists():
        shutil.copytree(media, saved["media"])
    if pg is None:
        # Closing the last connection checkpoints the WAL into the file.
        app.extensions["flaskr.engine"].dispose()
        saved["file"] = folder / f"{name}.sqlite"
        shutil.copy(app.config["DATABASE"], saved["file"])
        return saved
    saved["schema"] = schema = f"{pg['schema']}_snap_{name}"
    with pg["engine"].connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        for table in sorted(pg["tables"]):
            conn.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS TABLE "{table}"')
        saved["sequences"] = conn.execute(
            sa.text(
                "SELECT sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
        ).all()
        conn.commit()
    return saved


def _restore_snapshot(app: Flask, saved: dict[str, Any], pg: dict[str, Any] | None) -> None:
    """Put the saved database and media folder back in place of the app's."""
    if saved["media"].exists():
        shutil.copytree(saved["media"], _media_folder(app), dirs_exist_ok=True)
    if pg is None:
        app.extensions["flaskr.engine"].dispose()
        database = app.config["DATABASE"]
        for suffix in ("-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
        shutil.copy(saved["file"], database)
        return
    schema = saved["schema"]
    statements = ["SET LOCAL session_replication_role = replica;"]
    for table in sorted(pg["tables"]):
        statements.append(f'DELETE FROM "{table}";')
        statements.append(f'INSERT INTO "{table}" SELECT * FROM "{schema}"."{table}";')
    with pg["engine"].connect() as conn:
        conn.exec_driver_sql(" ".join(statements))
        for sequence, value in saved["sequences"]:
            conn.execute(
                sa.text("SELECT setval(:name, :value)"), {"name": f'"{sequence}"', "value": value}
            )
        conn.commit()
    # The content version changed with no trigger to say so.
    notified.committed()


# --- environment isolation ----------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, request: pytest.FixtureRequest):
    """No developer settings, an instance folder in tmp_path, and cheap argon2id."""
    for key in list(os.environ):
        if key.startswith("FLASKR_") and key not in KEEP_ENV:
            monkeypatch.delenv(key)
    instance = str(tmp_path / "instance")
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: instance)
    if request.node.get_closest_marker("real_hashing") is None:
        monkeypatch.setattr(passwords, "_hasher", FAST_HASHER)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()
    # Connections its apps' requests kept for a next request go back to their pools,
    # where they close with the app, as any pooled connection does.
    kept.close_all()


@pytest.fixture
def instance_path(tmp_path: Any) -> Any:
    """The instance folder every app of this test uses (not created until needed)."""
    return tmp_path / "instance"


# --- apps and clients ---------------------------------------------------------


@pytest.fixture
def app_config(database: dict[str, Any]) -> dict[str, Any]:
    """The settings `app` is built from; override this fixture to change them."""
    # No mail sender threads: the tests that deliver mail call the sender themselves.
    return {"TESTING": True, "MAIL_SENDER": False, **FAST_COMMITS, **database}


#: The settings that say which database an app uses.
DATABASE_KEYS = ("DATABASE", "DATABASE_URL")


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Build another app on this test's database: make_app(SETTING=value, ...)."""
    built: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        settings = {**app_config, **overrides}
        on_own_database = all(settings.get(k) == app_config.get(k) for k in DATABASE_KEYS)
        if on_own_database and "AUTO_MIGRATE" not in settings:
            # This test's database is migrated already (a copy of the template, or the
            # run's schema): the check before the first request would find nothing to
            # do, at a connection and an advisory lock per app on PostgreSQL. Apps on
            # another database (empty_database) keep the default and migrate it.
            settings["AUTO_MIGRATE"] = False
        app = create_app(settings)
        app.jinja_env.bytecode_cache = SHARED_TEMPLATE_CODE
        built.append(app)
        return app

    yield make
    from flaskr.mail import sender

    for app in built:
        # A mail sender first: it may hold a connection while it records a delivery.
        sender.stop(app)
        # Return every connection, so the next test's reset is not blocked.
        app.extensions["flaskr.engine"].dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The application on an empty, migrated database."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


class AuthActions:
    """Register, log in and out through the real forms (tutorial style)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def register(self, username: str = "test", password: str = "test"):
        """Post the registration form."""
        return self._client.post(
            "/auth/register", data={"username": username, "password": password}
        )

    def login(self, username: str = "test", password: str = "test"):
        """Post the login form."""
        return self._client.post("/auth/login", data={"username": username, "password": password})

    def logout(self):
        """Log out with the UI's POST form."""
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Log the `client` in and out."""
    return AuthActions(client)


# --- factories ----------------------------------------------------------------


@pytest.fixture
def make_user(app: Flask) -> Callable[..., int]:
    """Create an account through the auth services; return its id."""
    from flaskr.auth.services import register_user

    def make(username: str = "alice", password: str = "a long enough pw", role: str | None = None):
        with app.app_context():
            return register_user(username, password, role=role)

    return make


@pytest.fixture
def make_post(app: Flask) -> Callable[..., int]:
    """Create a post through the blog services; return its id."""
    from flaskr.blog import services

    def make(author_id: int, title: str = "Hello", body: str = "Body", **extra: Any) -> int:
        with app.app_context():
            draft_class = getattr(services, "Draft", None)
            if draft_class is None:  # the blog before drafts: plain arguments
                return services.create_post(author_id, title, body, **extra)
            return services.create_post(author_id, draft_class(title=title, body=body, **extra))

    return make


@pytest.fixture
def data_sql(app: Flask) -> None:
    """Load tests/data.sql: accounts with the tutorial's legacy hashes, by raw SQL."""
    from flaskr.db import get_db

    script = (Path(__file__).parent / "data.sql").read_text("utf8")
    with app.app_context():
        db = get_db()
        if hasattr(db, "executescript"):
            db.executescript(script)
        else:
            db.execute(script)
        db.commit()


@pytest.fixture
def csrf_token() -> Callable[[FlaskClient, str], str]:
    """Fetch a page with a form and return the CSRF token in it."""

    def fetch(client: FlaskClient, path: str = "/auth/login") -> str:
        page = client.get(path).get_data(as_text=True)
        match = _CSRF_RE.search(page)
        assert match, f"no CSRF token in the form at {path}"
        return match.group(1)

    return fetch


# --- CI: a skipped test is a failure ------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FLASKR_CI set, fail the run when any test was skipped."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(
                f"FLASKR_CI: {skipped} test(s) skipped; in CI every test must run.", red=True
            )
