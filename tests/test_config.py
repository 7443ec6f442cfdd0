"""Settings: where they come from, in which order, and the secret key."""

from __future__ import annotations

import os
import stat

import pytest

from flaskr import create_app
from flaskr.config import ConfigError

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

STRONG_KEY = "k" * 12 + "0123456789abcdef"


@pytest.fixture
def instance_config(instance_path):
    """Write instance/config.py with the given lines."""

    def write(text: str) -> None:
        instance_path.mkdir(exist_ok=True)
        (instance_path / "config.py").write_text(text)

    return write


def test_precedence_defaults_file_environment_test_config(make_app, instance_config, monkeypatch):
    instance_config("POSTS_PER_PAGE = 3\nSITE_NAME = 'from file'\nSITE_DESCRIPTION = 'from file'\n")
    monkeypatch.setenv("FLASKR_SITE_NAME", "from env")
    monkeypatch.setenv("FLASKR_SITE_DESCRIPTION", "from env")
    app = make_app(SITE_DESCRIPTION="from test_config")
    assert app.config["FEED_ITEMS"] == 20  # a default nobody overrode
    assert app.config["POSTS_PER_PAGE"] == 3
    assert app.config["SITE_NAME"] == "from env"
    assert app.config["SITE_DESCRIPTION"] == "from test_config"
    page = app.test_client().get("/").get_data(as_text=True)
    assert "from env" in page


def test_environment_values_are_parsed_as_json(make_app, monkeypatch):
    monkeypatch.setenv("FLASKR_POSTS_PER_PAGE", "7")
    monkeypatch.setenv("FLASKR_PROXY_FIX", '{"x_for": 1, "x_proto": 1}')
    app = make_app()
    assert app.config["POSTS_PER_PAGE"] == 7
    assert app.config["PROXY_FIX"] == {"x_for": 1, "x_proto": 1}


def test_relaxed_settings_stay_on_when_a_file_sets_them_under_testing(make_app, instance_config):
    instance_config("WTF_CSRF_ENABLED = True\n")
    app = make_app()
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["PASSWORD_POLICY"] is False


def test_relaxed_settings_stay_on_when_the_environment_sets_them(make_app, monkeypatch):
    monkeypatch.setenv("FLASKR_RATELIMIT_ENABLED", "true")
    assert make_app().config["RATELIMIT_ENABLED"] is True


def test_protections_are_on_outside_testing(make_app):
    app = make_app(TESTING=False, SECRET_KEY=STRONG_KEY)
    for key in ("WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "PASSWORD_POLICY"):
        assert app.config[key] is True, key


def test_database_url_from_the_environment(monkeypatch, tmp_path, instance_path):
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.setenv("FLASKR_DATABASE_URL", url)
    app = create_app({"TESTING": True})
    try:
        assert str(app.extensions["flaskr.engine"].url) == url
        assert app.test_client().get("/").status_code == 200
        assert (tmp_path / "env.sqlite").exists()
    finally:
        app.extensions["flaskr.engine"].dispose()


def test_default_database_is_in_the_instance_folder(instance_path):
    app = create_app({"TESTING": True})
    assert app.config["DATABASE"] == os.path.join(instance_path, "flaskr.sqlite")
    app.extensions["flaskr.engine"].dispose()


# --- the secret key -----------------------------------------------------------------


def test_secret_key_is_generated_once_and_kept_private(make_app, instance_path):
    first = make_app(TESTING=False)
    key_file = instance_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert first.config["SECRET_KEY"] == key
    assert len(key) >= 32 and key != "dev"
    second = make_app(TESTING=False)
    assert second.config["SECRET_KEY"] == key


def test_sessions_survive_a_restart(make_app, make_user):
    make_user("alice", "a long enough pw")
    first = make_app(TESTING=False, WTF_CSRF_ENABLED=False).test_client()
    first.post("/auth/login", data={"username": "alice", "password": "a long enough pw"})
    cookie = first.get_cookie("session").value
    second = make_app(TESTING=False).test_client()
    second.set_cookie("session", cookie)
    assert second.get("/auth/account").status_code == 200


@pytest.mark.parametrize("key", ["dev", "secret", "changeme", "short-key"])
def test_weak_secret_keys_are_refused_outside_testing(make_app, key):
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak"):
        make_app(TESTING=False, SECRET_KEY=key)
    assert make_app(SECRET_KEY=key).config["SECRET_KEY"] == key  # tests may use anything


def test_weak_secret_key_from_the_environment_is_refused(make_app, monkeypatch):
    monkeypatch.setenv("FLASKR_SECRET_KEY", "dev")
    with pytest.raises(ConfigError):
        create_app({"TESTING": False})


def test_a_truncated_key_file_is_refused(make_app, instance_path):
    instance_path.mkdir()
    (instance_path / "secret_key").write_text("abc\n")
    with pytest.raises(ConfigError, match="too short"):
        make_app(TESTING=False)


def test_testing_apps_do_not_write_a_key_file(app, instance_path):
    assert len(app.config["SECRET_KEY"]) >= 32
    assert not (instance_path / "secret_key").exists()


def _key_of_a_new_app(config: dict, results) -> None:
    """In a child process: start an app and report its secret key."""
    from flaskr import create_app

    results.put(create_app(config).config["SECRET_KEY"])


def test_workers_starting_at_once_share_one_generated_key(app_config, instance_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    config = {**app_config, "TESTING": False}
    workers = [context.Process(target=_key_of_a_new_app, args=(config, results)) for _ in range(6)]
    for worker in workers:
        worker.start()
    keys = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert keys == {(instance_path / "secret_key").read_text().strip()}
    assert [p.name for p in instance_path.iterdir()] == ["secret_key"]  # no drafts left
