"""`flaskr media`: remake pictures' widths after a settings change, remove orphaned files."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from flaskr.db.outages import reports_outages


@click.group("media")
def media_command() -> None:
    """Pictures: rebuild their widths, or remove files no upload names."""


@media_command.command("rebuild")
@with_appcontext
@reports_outages
def rebuild_command() -> None:
    """Make every picture's widths again from its original (after MEDIA_WIDTHS changed),
    and have posts show the new ones."""
    from flaskr.blog import queries as blog_queries
    from flaskr.db import transaction
    from flaskr.media import queries, services
    from flaskr.media.storage import StorageError
    from flaskr.validation import ValidationError

    ids = queries.all_media_ids()
    missing, failed, unwanted = 0, 0, []
    try:
        with click.progressbar(ids, label=f"Rebuilding {len(ids):,} pictures") as bar:
            for media_id in bar:
                try:
                    old = services.rebuild(media_id)
                except (ValidationError, StorageError) as error:  # this one; the rest go on
                    failed += 1
                    click.echo(f"\nPicture {media_id}: {error}", err=True)
                    continue
                if old is None:
                    missing += 1
                else:
                    unwanted += old
    finally:
        # Whatever was rebuilt, posts list it (their srcset named the old widths)...
        with transaction():
            blog_queries.forget_rendered()
    services.remove_files(unwanted)  # ...before the widths no longer made go
    click.echo(f"Rebuilt {len(ids) - missing - failed:,} pictures.")
    if missing:
        click.echo(
            f"{missing:,} had no original left in the store; see `flaskr media gc`.", err=True
        )
    if failed:
        click.echo(f"{failed:,} could not be remade (said above); they keep their files.", err=True)
        sys.exit(1)


@media_command.command("gc")
@click.option(
    "--grace",
    default=120.0,
    show_default=True,
    help="Seconds to wait before deleting, so uploads in progress keep their files.",
)
@with_appcontext
@reports_outages
def gc_command(grace: float) -> None:
    """Delete stored files that no upload names (after a crash or a failed delete)."""
    from flaskr.media import services

    gone = services.collect_garbage(grace)
    click.echo(f"Deleted {gone:,} orphaned file{'s' if gone != 1 else ''}.")
