"""Your email address on the account page, its confirmation link, and a forgotten
password: the request form and the reset link's page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.mail.addresses import MAX_LENGTH, address_key
from flaskr.policy import public
from flaskr.ratelimit import config_value, limit, signed_in_user, signed_out
from flaskr.recovery import services
from flaskr.security import audit
from flaskr.validation import ValidationError

bp = Blueprint("recovery", __name__, url_prefix="/auth")
bp.add_app_template_global(services.account_address, "account_address")

_reset_limit = config_value("RATELIMIT_PASSWORD_RESET")


def _typed_address() -> str:
    """The address a reset request names, as the rate limiter counts it."""
    typed = (request.form.get("email") or "")[: MAX_LENGTH + 1].strip()
    return "reset:" + address_key(typed)


@bp.route("/account/email", methods=("POST",))
@login_required
@limit(config_value("RATELIMIT_ACCOUNT"), key_func=signed_in_user, exempt_when=signed_out)
def change_email():
    """Send a confirmation link to a new address (or remove the address), after the
    password."""
    user = g.user
    try:
        done = services.change_address(
            user["id"],
            request.form.get("password", ""),
            request.form.get("email", "")[: MAX_LENGTH + 1],
            user["language"],
        )
    except ValidationError as error:
        flash(str(error))
        return render_template("auth/account.html"), 400
    if done == "removed":
        audit("email-changed", removed=True)
        flash(gettext("Your email address has been removed."))
    else:
        flash(
            gettext("We sent a link to the new address. Your address changes when you follow it.")
        )
    return redirect(url_for("auth.account"))


@bp.route("/confirm-email/<token>", methods=("GET", "POST"))
@public
@limit(config_value("RATELIMIT_LOGIN"), methods=["POST"])
def confirm_email(token: str):
    """A confirmation link: a button confirms (a mail scanner that follows links
    confirms nothing)."""
    try:
        row = services.check_link(token, services.VERIFY)
        if request.method == "POST":
            row = services.confirm_address(token)
    except ValidationError as error:
        return render_template("recovery/confirm.html", error=str(error), address=None), 400
    if request.method == "POST":
        audit("email-changed", user_id=row.user_id, address=services.mask(row.email))
        flash(gettext("Your email address is confirmed."))
        return redirect(url_for("auth.account" if g.user else "auth.login"))
    return render_template("recovery/confirm.html", error=None, address=row.email)


@bp.route("/forgot", methods=("GET", "POST"))
@public
@limit(_reset_limit, methods=["POST"])
@limit(_reset_limit, methods=["POST"], key_func=_typed_address)
def forgot_password():
    """Ask for a password reset link by the account's confirmed address."""
    if request.method == "POST":
        address = request.form.get("email", "")[: MAX_LENGTH + 1]
        if not address.strip():
            flash(gettext("Email address is required."))
            return render_template("recovery/forgot.html"), 400
        user_id = services.request_reset(address)
        if user_id is not None:
            current_app.logger.info("password reset link sent for user_id=%s", user_id)
        # The same answer whether or not an account has this address.
        flash(
            gettext(
                "If an account has this confirmed address, a link to choose a new password "
                "is on its way. It works for %(minutes)s minutes.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            )
        )
        return redirect(url_for("auth.login"))
    return render_template("recovery/forgot.html")


@bp.route("/reset/<token>", methods=("GET", "POST"))
@public
@limit(config_value("RATELIMIT_LOGIN"), methods=["POST"])
def reset_password(token: str):
    """A reset link: choose a new password; every session of the account ends."""
    try:
        row = services.check_link(token, services.RESET)
    except ValidationError as error:
        return render_template("recovery/reset.html", error=str(error), username=None), 400
    if request.method == "POST":
        try:
            user_id = services.reset_password(token, request.form.get("password", ""))
        except ValidationError as error:
            flash(str(error))
            return render_template("recovery/reset.html", error=None, username=row.username), 400
        audit("password-reset", user_id=user_id, via="email")
        flash(gettext("Your password has been changed. You can log in now."))
        return redirect(url_for("auth.login"))
    return render_template("recovery/reset.html", error=None, username=row.username)
