"""The `flaskr` command: the same commands as `flask --app flaskr`, plus operations."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from flaskr.db.outages import reports_outages


def init_app(app: Flask) -> None:
    """Add flaskr's operational commands to the app's CLI."""
    from flaskr.auth.cli import COMMANDS as ACCOUNT_COMMANDS
    from flaskr.demo import demo_data_command
    from flaskr.media.cli import media_command

    for command in (
        serve_command,
        *ACCOUNT_COMMANDS,
        demo_data_command,
        check_command,
        purge_trash_command,
        optimize_command,
        media_command,
    ):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `flaskr` console script."""
    from flaskr import create_app

    cli = FlaskGroup(
        create_app=lambda: create_app(),
        add_version_option=True,
        help="flaskr, a self-hosted blog. Start with `flaskr serve`.",
    )
    cli.main(prog_name="flaskr")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=lambda: os.cpu_count() or 1,
    show_default="one per CPU",
    type=click.IntRange(1, 64),
    help="Worker processes.",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Request threads per worker.",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request to stdout.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Run the blog with a production server (granian), after applying migrations."""
    from flaskr.serving import run_server

    _apply_migrations()
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    click.echo(f"flaskr is serving at {url} with {workers} worker(s). Press Ctrl+C to stop.")
    grace = current_app.config["SHUTDOWN_GRACE_SECONDS"]
    cut = run_server(host, port, workers, threads, access_log, grace)
    if cut:
        click.echo(
            f"Stopped, but {cut} request(s) were still running after "
            f"SHUTDOWN_GRACE_SECONDS ({grace}) and were cut off.",
            err=True,
        )
        sys.exit(1)


@reports_outages
def _apply_migrations() -> None:
    from flaskr.schema import upgrade_db

    if upgrade_db():
        click.echo("Applied database migrations.")


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Report settings that are unsafe in production; exit 1 if any."""
    from flaskr.config import MIN_SECRET_LENGTH, WEAK_SECRETS

    config = current_app.config
    problems = []
    key = str(config.get("SECRET_KEY") or "")
    if key.lower() in WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH:
        problems.append("SECRET_KEY is weak: use at least 24 random characters.")
    if current_app.extensions.get("flaskr.debug_setting") or current_app.debug:
        problems.append("DEBUG is on: it shows code and lets visitors run it.")
    if config.get("TESTING"):
        problems.append("TESTING is on: CSRF, rate limits and the password policy are off.")
    if not config.get("TRUSTED_HOSTS"):
        problems.append("TRUSTED_HOSTS is not set: any Host header is accepted.")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append(
            "SESSION_COOKIE_SECURE is off: serve over HTTPS and set "
            "FLASKR_PREFERRED_URL_SCHEME=https (or FLASKR_SESSION_COOKIE_SECURE=true)."
        )
    for name in ("WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "PASSWORD_POLICY"):
        if not config.get(name):
            problems.append(f"{name} is off.")
    if not problems:
        click.echo("No problems found.")
        return
    for problem in problems:
        click.echo(f"- {problem}", err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)
    sys.exit(1)


@click.command("purge-trash")
@with_appcontext
@reports_outages
def purge_trash_command() -> None:
    """Delete for good the posts that have waited in the trash longer than TRASH_DAYS.

    Each deletion already purges what expired, and expired posts can no longer be
    restored; this frees their space at once (from cron, say).
    """
    from flaskr.trash import services

    purged = services.purge_expired()
    days = current_app.config["TRASH_DAYS"]
    click.echo(f"Purged {purged} post{'s' if purged != 1 else ''} deleted over {days} days ago.")


@click.command("optimize")
@with_appcontext
@reports_outages
def optimize_command() -> None:
    """Refresh the query planner's statistics and compact the search index (nightly, say).

    What demo-data does after its bulk load: ANALYZE on both databases; on SQLite
    also PRAGMA optimize and a merge of each full-text index into one segment,
    which a blog growing post by post splits into several that every search reads.
    """
    from flaskr.db import refresh_statistics

    click.echo("Updating the query planner's statistics and the search index...")
    refresh_statistics()
    click.echo("Done.")
