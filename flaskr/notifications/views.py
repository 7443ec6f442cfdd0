"""Unsubscribing from a kind of email with one click, and choosing them on the account page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from flaskr.auth.views import login_required
from flaskr.db import transaction
from flaskr.extensions import csrf
from flaskr.notifications import services
from flaskr.policy import public
from flaskr.ratelimit import write_limit

bp = Blueprint("notifications", __name__)


@bp.route("/unsubscribe/<token>", methods=("GET", "POST"))
@public
@csrf.exempt
def unsubscribe(token: str):
    """Stop one kind of email to one account: the link in every notification.

    A GET only asks (mail scanners open links); a POST stops the email, whether
    the page's button sent it or a mail program's one-click unsubscribe (RFC 8058:
    "List-Unsubscribe=One-Click"), which has no session and no CSRF token. The
    signed token is the authority: it names one account and one kind of email.
    """
    found = services.read_token(token)
    if found is None:
        abort(
            404,
            description=gettext(
                "This unsubscribe link is not valid. Log in to choose which emails you get "
                "on your account page."
            ),
        )
    account, kind = found
    done = request.method == "POST"
    if done:
        with transaction():
            services.turn_off(account["id"], kind)
    return render_template(
        "notifications/unsubscribe.html",
        account=account,
        what=services.KINDS[kind],
        done=done,
    )


@bp.route("/auth/account/notifications", methods=("POST",))
@login_required
@write_limit
def update():
    """Save which kinds of email the signed-in account gets: a ticked box per kind
    (its name the kind, as the account page's checkboxes send them)."""
    offered = services.offered(g.user)
    sent = {name for name in request.form if name != "csrf_token"}
    if sent - offered or any(request.form[name] != "on" for name in sent):
        abort(400, description=gettext("Choose emails from the list."))
    wanted = sent
    with transaction():
        services.save_settings(g.user["id"], wanted, offered)
    flash(gettext("Your email choices are saved."))
    return redirect(url_for("auth.account") + "#notifications", code=303)
