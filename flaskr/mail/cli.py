"""`flaskr outbox`: what mail was written, read without an SMTP server; deliver now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from flaskr.db.outages import reports_outages


@click.command("outbox")
@click.option("--show", "show", type=int, metavar="ID", help="Print one message whole.")
@click.option("--send", is_flag=True, help="Deliver every message that is due now, then exit.")
@click.option("--limit", default=20, show_default=True, help="How many messages to list.")
@with_appcontext
@reports_outages
def outbox_command(show: int | None, send: bool, limit: int) -> None:
    """List the newest messages in the outbox (without SMTP set, the mail flaskr would
    send is read here, links included)."""
    from flaskr.mail import queries, sender

    if send:
        click.echo(f"Handled {sender.deliver_due()} message(s).")
        return
    if show is not None:
        row = queries.find_message(show)
        if row is None:
            raise click.ClickException(f"No message {show} in the outbox.")
        click.echo(sender.readable(row))
        return
    rows = queries.list_messages(None, page=1, per_page=limit)[:limit]
    if not rows:
        click.echo("The outbox is empty.")
        return
    for row in rows:
        click.echo(
            f"{row['id']:>6}  {row['created_at']:%Y-%m-%d %H:%M}  {row['status']:<7}  "
            f"{row['recipient']}  {row['subject']}"
        )
    click.echo("Read one with: flaskr outbox --show ID")
