"""Register, sign in and out, and the account page."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from flaskr.auth import devices, services, usernames
from flaskr.auth.tables import USERNAME_MAX
from flaskr.contexts import this_app, this_g, this_session
from flaskr.invites import services as invite_services
from flaskr.policy import SIGNED_IN, declare, public
from flaskr.ratelimit import limit, signed_out
from flaskr.security import audit, is_own_navigation, safe_path
from flaskr.timezones import zone_names
from flaskr.twofactor import services as twofactor
from flaskr.validation import ValidationError

bp = Blueprint("auth", __name__, url_prefix="/auth")
# The account page's searchable list of time zones.
bp.add_app_template_global(zone_names, "zone_names")

#: Refresh the idle timer in the cookie at most this often (seconds).
SEEN_GRANULARITY = 60


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _account_limit() -> str:
    return current_app.config["RATELIMIT_ACCOUNT"]


def _login_account() -> str:
    """The account a login names (its case does not matter)."""
    if "login_account" not in g:
        typed = (request.form.get("username") or "")[: USERNAME_MAX + 1]
        g.login_account = "account:" + usernames.login_key(typed)
    return g.login_account


def _known_device() -> str:
    return f"device:{devices.device_for(_login_account())}"


def _on_known_device() -> bool:
    return devices.device_for(_login_account()) is not None


def _on_unknown_device() -> bool:
    return not _on_known_device()


def _session_account() -> str:
    return f"user:{session.get('user_id')}"


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send visitors who are not signed in to the login page, then back here."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: Any) -> Any:
        if g.user is None:
            if request.method == "GET":
                session["next"] = safe_path(request.full_path.rstrip("?"))
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return declare(SIGNED_IN)(wrapped_view)


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the signed-in user (or None) in g.user, ending expired or revoked sessions."""
    state, cookie = this_g(), this_session()  # every request: once, not per use
    state.user = None
    user_id = cookie.get("user_id")
    if user_id is None:
        return
    token = cookie.get("sid")
    now = int(time.time())
    idle_limit = this_app().config["SESSION_IDLE_MINUTES"] * 60
    user = services.session_user(token) if token else None
    if user is None or user["id"] != user_id or now - cookie.get("seen", 0) > idle_limit:
        cookie.clear()
        return
    if now - cookie.get("seen", 0) > SEEN_GRANULARITY:
        cookie["seen"] = now
    state.user = dict(user)


def sign_in(user_id: int) -> None:
    """Start a new session of this account in this browser."""
    next_path = session.get("next")
    # A new session at sign-in: nothing from before (a planted id) carries over.
    session.clear()
    session.permanent = True
    session["user_id"] = user_id
    session["sid"] = services.start_session(user_id)
    session["seen"] = int(time.time())
    if next_path:
        session["next"] = next_path


@bp.route("/register", methods=("GET", "POST"))
@public
@limit(_login_limit, methods=["POST"])
def register():
    """Create an account with a username and password (on an invite-only site, from an
    invitation's link)."""
    token = request.values.get("invite", "")[:100]
    refused = _registration_refused(token)
    if refused is not None:
        return render_template("auth/register.html", refusal=refused, invite=""), 403
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user_id = invite_services.register(username, request.form.get("password", ""), token)
        except ValidationError as error:
            flash(str(error))
        else:
            audit("register", user_id=user_id, invited=bool(token))
            flash(gettext("Account created. You can log in now."))
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", refusal=None, invite=token)


def _registration_refused(token: str) -> str | None:
    """Why this visitor may not register here, or None."""
    mode = invite_services.mode()
    if mode == "closed":
        return gettext("Registration is closed on this site.")
    if token:
        try:
            invite_services.check_invite(token)
        except ValidationError as error:
            return str(error)
    elif mode == "invite":
        return gettext(
            "This site takes new accounts by invitation only: register with the link "
            "its administrators sent you."
        )
    return None


@bp.route("/login", methods=("GET", "POST"))
@public
# Per address; per account from browsers that never signed in to it (a stranger
# can spend that budget); per device for a browser that did (see auth/devices.py).
@limit(_login_limit, methods=["POST"])
@limit(_login_limit, methods=["POST"], key_func=_login_account, exempt_when=_on_known_device)
@limit(_login_limit, methods=["POST"], key_func=_known_device, exempt_when=_on_unknown_device)
def login():
    """Sign in with a username and password."""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user_id = services.authenticate(username, request.form.get("password", ""))
        except ValidationError as error:
            audit("login-failed", username=username[:200], reason=str(error))
            flash(str(error))
        else:
            if twofactor.is_enabled(user_id):
                # The right password; the code from the app comes next.
                from flaskr.twofactor.views import start_second_step

                start_second_step(user_id, _login_account())
                return redirect(url_for("twofactor.second_step"))
            sign_in(user_id)
            audit("login", user_id=user_id)
            response = redirect(safe_path(session.pop("next", None)))
            devices.remember(response, _login_account())
            return response
    return render_template("auth/login.html")


@bp.route("/logout", methods=("GET", "POST"))
@public
def logout():
    """Sign out, ending this session on the server too."""
    if request.method == "GET" and not is_own_navigation():
        # An image in a post (or another site) loading this address must not sign
        # the reader out: it gets a page whose button signs out with a POST.
        return render_template("auth/logout.html")
    token = session.get("sid")
    if token:
        services.end_session(token)
    session.clear()
    flash(gettext("Logged out."))
    return redirect(url_for("index"))


@bp.route("/account", methods=("GET",))
@login_required
def account():
    """The signed-in user's account page."""
    return render_template("auth/account.html")


@bp.route("/account/password", methods=("POST",))
@login_required
@limit(_account_limit, key_func=_session_account, exempt_when=signed_out)
def change_password():
    """Change the password; every other session of this user ends."""
    try:
        services.change_password(
            g.user["id"],
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            keep_token=session.get("sid"),
        )
    except ValidationError as error:
        audit("password-change-failed", reason=str(error))
        flash(str(error))
        return render_template("auth/account.html"), 400
    audit("password-changed")
    flash(gettext("Your password has been changed. Other sessions were signed out."))
    return redirect(url_for("auth.account"))


@bp.route("/account/delete", methods=("POST",))
@login_required
@limit(_account_limit, key_func=_session_account, exempt_when=signed_out)
def delete_account():
    """Delete the account and all its posts."""
    user_id = g.user["id"]
    try:
        services.delete_account(user_id, request.form.get("password", ""))
    except ValidationError as error:
        flash(str(error))
        return render_template("auth/account.html"), 400
    audit("account-deleted", user_id=user_id)
    session.clear()
    flash(gettext("Your account and its posts have been deleted."))
    return redirect(url_for("index"))


@bp.route("/account/profile", methods=("POST",))
@login_required
def update_profile():
    """Change your bio, time zone and language."""
    form = request.form
    try:
        services.update_profile(
            g.user["id"],
            form.get("bio", ""),
            form.get("timezone", "UTC"),
            form.get("language", g.user["language"]),
        )
    except ValidationError as error:
        flash(str(error))
        return render_template("auth/account.html"), 400
    flash(gettext("Your profile has been saved."))
    return redirect(url_for("auth.account"))
