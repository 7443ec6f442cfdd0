"""The tutorial's deployment chapter: build a wheel, install it in a fresh venv, init-db, serve."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "flaskr" / "migrations" / "versions"


def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output if it fails."""
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


def head_revision() -> str:
    """The newest migration in the source tree: the one no other migration follows."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text()
        revisions.add(re.search(r'^revision\s*=\s*"(\w+)"', text, re.M).group(1))
        parent = re.search(r'^down_revision\s*=\s*"(\w+)"', text, re.M)
        if parent:
            parents.add(parent.group(1))
    (head,) = revisions - parents
    return head


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `python -m build --wheel` makes from this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT)
    (path,) = dist.glob("flaskr-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel (not the checkout) installed."""
    path = tmp_path_factory.mktemp("deploy") / "venv"
    run(sys.executable, "-m", "venv", path)
    # Compiled at install, as pip does by default: the deployment's commands run with
    # whatever PYTHONDONTWRITEBYTECODE says, and would otherwise compile every import.
    run(path / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    return path


@pytest.fixture
def deploy_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clean environment: the instance folder's SQLite file, or a fresh PostgreSQL schema."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASKR_", "VIRTUAL_ENV"))}
    base_url = os.environ.get("FLASKR_TEST_DATABASE_URL")
    if not base_url:
        yield env
        return
    schema = f"wheel_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    env["FLASKR_DATABASE_URL"] = url.render_as_string(hide_password=False)
    env["FLASKR_TEST_SCHEMA"] = schema  # read back by the test, ignored by flaskr
    try:
        yield env
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def schema_version(venv: Path, env: dict[str, str]) -> tuple[str, set[str]]:
    """The Alembic version and the table names of the database the deployment uses."""
    if "FLASKR_DATABASE_URL" in env:
        engine = sa.create_engine(env["FLASKR_DATABASE_URL"])
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            tables = set(sa.inspect(conn).get_table_names(schema=env["FLASKR_TEST_SCHEMA"]))
        engine.dispose()
        return version, tables
    # The tutorial: an installed package's instance folder is <prefix>/var/flaskr-instance.
    database = venv / "var" / "flaskr-instance" / "flaskr.sqlite"
    with sqlite3.connect(database) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    return version, tables


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Status and text of a GET."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own server
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    """Return once the server answers url; fail if it dies or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {seconds} s:\n{log.read_text()}")


@pytest.mark.db_independent
def test_wheel_ships_templates_static_files_and_migrations(wheel: Path):
    """Everything the app reads at run time is inside the wheel; the tests are not."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "flaskr/templates/base.html",
        "flaskr/templates/blog/index.html",
        "flaskr/static/style.css",
        "flaskr/migrations/env.py",
        "flaskr/migrations/script.py.mako",
        "flaskr/auth/common-passwords.txt",
        # Compiled: an installed blog speaks German without a build step.
        "flaskr/translations/de/LC_MESSAGES/messages.mo",
    ):
        assert required in names
    shipped = {Path(n).name for n in names if n.startswith("flaskr/migrations/versions/")}
    assert {p.name for p in VERSIONS.glob("*.py")} <= shipped
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_inits_db_and_serves_with_waitress(venv, deploy_env, tmp_path):
    """`flask --app flaskr init-db`, then `waitress-serve --call flaskr:create_app`, as taught."""
    bin_dir = venv / "bin"
    # From an empty folder, so `import flaskr` can only find the installed package.
    result = run(bin_dir / "flask", "--app", "flaskr", "init-db", cwd=tmp_path, env=deploy_env)
    assert "Initialized the database." in result.stdout
    version, tables = schema_version(venv, deploy_env)
    assert version == head_revision()
    assert {"user", "post"} <= tables

    port = free_port()
    log = tmp_path / "waitress.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [bin_dir / "waitress-serve", "--host", "127.0.0.1", "--port", str(port),
             "--call", "flaskr:create_app"],
            cwd=tmp_path, env=deploy_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/hello", server, log)
        status, page = fetch(base + "/")
        assert status == 200 and "<html" in page
        status, page = fetch(base + "/auth/register")
        # Production settings in the installed app: the form carries a CSRF token.
        assert status == 200 and 'name="csrf_token"' in page
        status, css = fetch(base + "/static/style.css")
        assert status == 200 and "{" in css
        status, page = fetch(base + "/auth/login", headers={"Accept-Language": "de"})
        assert status == 200 and '<html lang="de"' in page and "Anmelden" in page
    finally:
        server.terminate()
        server.wait(timeout=15)
    # No SECRET_KEY was configured: one was generated, private to the owner.
    key = venv / "var" / "flaskr-instance" / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.db_independent
def test_installed_console_script_lists_the_operations(venv, tmp_path):
    """`flaskr --help` works from the wheel and names every operational command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
    result = run(venv / "bin" / "flaskr", "--help", cwd=tmp_path, env=env)
    for command in ("serve", "init-db", "upgrade", "create-user", "demo-data", "check"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), command
