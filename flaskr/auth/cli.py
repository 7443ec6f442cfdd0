"""Account commands for the people who run the site: create, set roles, disable, reset.

The command line is the way in when nobody can sign in as an admin (the first
admin, a lost password, a locked-out site) and for scripts. Each command
names the account by username, says what it did, and writes an audit line
(`via=cli`) as the same change made on the web would.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from flaskr.auth import services
from flaskr.db.outages import reports_outages
from flaskr.policy import ROLES
from flaskr.schema import upgrade_db
from flaskr.security import audit
from flaskr.validation import ValidationError

_ROLE = click.Choice(ROLES)


def _account(username: str) -> dict:
    """The account named on the command line, or a clear error."""
    found = services.find_account(username)
    if found is None:
        raise click.ClickException(f"There is no account named {username!r}.")
    return dict(found)


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    type=_ROLE,
    default=None,
    help="Its role (default: the DEFAULT_ROLE setting, 'author' unless changed).",
)
@click.option("--admin", is_flag=True, help="Make it an administrator (the same as --role admin).")
@click.password_option(help="Asked for when not given; never echoed.")
@with_appcontext
@reports_outages
def create_user_command(username: str, role: str | None, admin: bool, password: str) -> None:
    """Create an account. The first administrator is made this way: flaskr has no
    default admin account."""
    if admin and role not in (None, "admin"):
        raise click.UsageError("--admin and --role say different things: give one of them.")
    if current_app.config["AUTO_MIGRATE"]:
        # The first admin is often made before the site first starts: set the
        # database up as `flaskr serve` would, rather than fail on a missing table.
        upgrade_db()
    try:
        user_id = services.register_user(username, password, role="admin" if admin else role)
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    # As stored: the name normalized, the role the site's default when none was given.
    made = services.find_account(username) or {"username": username, "role": role}
    audit("user-created", target_id=user_id, role=made["role"], via="cli")
    click.echo(f"Created {made['role']} {made['username']!r} (id {user_id}).")


@click.command("set-role")
@click.argument("username")
@click.argument("role", type=_ROLE)
@with_appcontext
@reports_outages
def set_role_command(username: str, role: str) -> None:
    """Give an account a role: reader, author, editor or admin. It applies from the
    account's next request; its sessions stay signed in."""
    account = _account(username)
    if account["role"] == role:
        click.echo(f"{account['username']!r} is already {role}.")
        return
    services.set_role(account["id"], role)
    audit("role-changed", target_id=account["id"], old=account["role"], new=role, via="cli")
    click.echo(f"{account['username']!r} is now {role} (was {account['role']}).")


@click.command("disable-user")
@click.argument("username")
@with_appcontext
@reports_outages
def disable_user_command(username: str) -> None:
    """Stop an account from signing in and sign it out everywhere at once. Its posts stay."""
    account = _account(username)
    services.disable_user(account["id"])
    audit("user-disabled", target_id=account["id"], via="cli")
    click.echo(f"Disabled {account['username']!r} and ended all of its sessions.")


@click.command("enable-user")
@click.argument("username")
@with_appcontext
@reports_outages
def enable_user_command(username: str) -> None:
    """Let a disabled account sign in again."""
    account = _account(username)
    if not account["disabled"]:
        click.echo(f"{account['username']!r} is not disabled.")
        return
    services.enable_user(account["id"])
    audit("user-enabled", target_id=account["id"], via="cli")
    click.echo(f"Enabled {account['username']!r}: it can sign in again.")


@click.command("reset-password")
@click.argument("username")
@click.password_option(
    "--password", prompt="New password", help="Asked for when not given; never echoed."
)
@with_appcontext
@reports_outages
def reset_password_command(username: str, password: str) -> None:
    """Set a new password for an account (for a user locked out) and sign it out everywhere."""
    account = _account(username)
    try:
        services.reset_password(account["id"], password)
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    audit("password-reset", target_id=account["id"], via="cli")
    click.echo(f"Set a new password for {account['username']!r} and ended all of its sessions.")


@click.command("reset-2fa")
@click.argument("username")
@with_appcontext
@reports_outages
def reset_two_factor_command(username: str) -> None:
    """Turn two-factor login off for an account whose phone and recovery codes are lost
    (it signs in with its password, and may turn it on again)."""
    from flaskr.twofactor import services as twofactor

    account = _account(username)
    if not twofactor.reset(account["id"]):
        raise click.ClickException(f"{account['username']!r} does not use two-factor login.")
    audit("2fa-disabled", target_id=account["id"], via="cli")
    click.echo(f"Turned two-factor login off for {account['username']!r}.")


COMMANDS = (
    create_user_command,
    set_role_command,
    disable_user_command,
    enable_user_command,
    reset_password_command,
    reset_two_factor_command,
)
