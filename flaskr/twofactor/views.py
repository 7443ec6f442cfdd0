"""Two-factor login pages: turning it on and off on the account, and the code asked for
after the password at sign-in."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from flaskr.auth import devices
from flaskr.auth.views import login_required, sign_in
from flaskr.contexts import this_g
from flaskr.policy import public
from flaskr.ratelimit import config_value, limit, signed_in_user, signed_out
from flaskr.security import audit, safe_path
from flaskr.twofactor import services
from flaskr.validation import ValidationError

bp = Blueprint("twofactor", __name__, url_prefix="/auth")

#: How long the code may take after the password, before signing in starts over.
PENDING_SECONDS = 300
#: Pages a user whom the site requires to enrol may still open.
_OPEN_BEFORE_ENROLLING = frozenset(
    {"twofactor.setup", "auth.logout", "static", "hello", "appearance.choose_theme"}
)

_account_limit = limit(
    config_value("RATELIMIT_ACCOUNT"), key_func=signed_in_user, exempt_when=signed_out
)


def _pending_user() -> str:
    return f"2fa:{session.get('2fa_user')}"


def start_second_step(user_id: int, account_key: str) -> None:
    """After the right password of an account with two-factor login: remember who is
    signing in (not signed in yet) and where to go after."""
    next_path = session.get("next")
    session.clear()
    session["2fa_user"] = user_id
    session["2fa_account"] = account_key
    session["2fa_since"] = int(time.time())
    if next_path:
        session["next"] = next_path


@bp.before_app_request
def enrol_first():
    """Send a signed-in user whom the site requires a second factor of to set it up,
    before anything else."""
    user = this_g().get("user")
    if user is None or request.endpoint in _OPEN_BEFORE_ENROLLING:
        return None
    if services.is_required(user) and not services.is_enabled(user["id"]):
        if request.method == "GET":
            flash(gettext("This site requires two-factor login for your role: set it up to go on."))
        return redirect(url_for("twofactor.setup"))
    return None


@bp.route("/2fa", methods=("GET", "POST"))
@public
@limit(config_value("RATELIMIT_LOGIN"), methods=["POST"])
@limit(config_value("RATELIMIT_LOGIN"), methods=["POST"], key_func=_pending_user)
def second_step():
    """The code from the authenticator app (or a recovery code) after the password."""
    user_id = session.get("2fa_user")
    if user_id is None or time.time() - session.get("2fa_since", 0) > PENDING_SECONDS:
        # No password given (or too long ago): the page says to log in, with a link.
        session.pop("2fa_user", None)
        return render_template("twofactor/second_step.html", expired=True), 400
    if request.method == "POST":
        via = services.verify(user_id, request.form.get("code", "")[:50])
        if via is None:
            audit("login-failed", user_id=None, target_id=user_id, reason="wrong second factor")
            flash(str(services.wrong_code()))
            return render_template("twofactor/second_step.html"), 400
        account_key = session.get("2fa_account", "")
        sign_in(user_id)
        audit("login", user_id=user_id, via=via)
        if via == "recovery-code":
            left = services.codes_left(user_id)
            flash(gettext("You used a recovery code: %(count)d left.", count=left))
        response = redirect(safe_path(session.pop("next", None)))
        if account_key:
            devices.remember(response, account_key)
        return response
    return render_template("twofactor/second_step.html")


@bp.route("/2fa/setup", methods=("GET", "POST"))
@login_required
@limit(config_value("RATELIMIT_ACCOUNT"), methods=["POST"], key_func=signed_in_user)
def setup():
    """Turn two-factor login on: scan the QR code, type a code and the password."""
    user = g.user
    if services.is_enabled(user["id"]):
        return render_template(
            "twofactor/status.html",
            left=services.codes_left(user["id"]),
            required=services.is_required(user),
        )
    secret = session.get("2fa_setup")
    if secret is None:
        # Kept in the (signed) session until a code proves the app has it.
        secret = session["2fa_setup"] = services.new_secret()
    if request.method == "POST":
        try:
            codes = services.enable(
                user["id"],
                request.form.get("password", ""),
                secret,
                request.form.get("code", "")[:50],
            )
        except ValidationError as error:
            flash(str(error))
        else:
            session.pop("2fa_setup", None)
            audit("2fa-enabled")
            flash(gettext("Two-factor login is on."))
            return _show_codes(codes)
    uri = services.setup_uri(secret, user["username"])
    status = 400 if request.method == "POST" else 200
    return render_template(
        "twofactor/setup.html", secret=secret, qr=services.qr_code(uri), uri=uri
    ), status


def _show_codes(codes: list[str]):
    return render_template("twofactor/codes.html", codes=codes)


@bp.route("/2fa/codes", methods=("POST",))
@login_required
@_account_limit
def renew_codes():
    """Ten new recovery codes; the old ones stop working."""
    try:
        codes = services.renew_codes(g.user["id"], request.form.get("password", ""))
    except ValidationError as error:
        flash(str(error))
        return redirect(url_for("twofactor.setup"))
    audit("2fa-codes-renewed")
    return _show_codes(codes)


@bp.route("/2fa/disable", methods=("POST",))
@login_required
@_account_limit
def disable():
    """Turn two-factor login off, after the password and a code."""
    user = g.user
    try:
        services.disable(
            user["id"],
            request.form.get("password", ""),
            request.form.get("code", "")[:50],
            required=services.is_required(user),
        )
    except ValidationError as error:
        flash(str(error))
        return redirect(url_for("twofactor.setup"))
    audit("2fa-disabled")
    flash(gettext("Two-factor login is off."))
    return redirect(url_for("auth.account"))
