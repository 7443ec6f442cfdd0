"""Login lockout: guessing is bounded per address, per account and per device,
but a stranger cannot lock the owner out of a browser that signed in before."""

from __future__ import annotations

import pytest

from flaskr.auth.devices import COOKIE

PW = "a long enough pw"


@pytest.fixture
def limited(make_app, make_user):
    """An app with 3 login attempts a minute per address, account and device; alice exists."""
    make_user("alice", PW)
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")


def _login(client, password="wrong password", ip="10.0.0.1", username="alice"):
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _known_device(app):
    """Alice's own browser: it signed in once (and out again) from her address."""
    owner = app.test_client()
    assert _login(owner, password=PW, ip="192.0.2.1").status_code == 302
    assert owner.get_cookie(COOKIE, path="/auth/") is not None
    owner.post("/auth/logout")
    return owner


def _strangers_spend_the_account_budget(app):
    """Failures for alice from many addresses, until the account's budget is spent."""
    stranger = app.test_client()
    statuses = [_login(stranger, ip=f"203.0.113.{n}").status_code for n in range(4)]
    assert statuses[-1] == 429  # every attempt from an unknown browser counted
    assert _login(stranger, password=PW, ip="203.0.113.98").status_code == 429


def test_strangers_failures_do_not_lock_the_owner_out_of_a_known_device(limited):
    owner = _known_device(limited)
    _strangers_spend_the_account_budget(limited)
    assert _login(owner, password=PW, ip="192.0.2.1").status_code == 302
    # ...even from another address (a phone moving between networks).
    owner.post("/auth/logout")
    assert _login(owner, password=PW, ip="198.51.100.7").status_code == 302


def test_a_new_browser_of_the_owner_waits_like_anyone_while_the_account_is_guessed(limited):
    _strangers_spend_the_account_budget(limited)
    assert _login(limited.test_client(), password=PW, ip="192.0.2.1").status_code == 429


def test_one_address_guessing_is_stopped_across_accounts(limited, make_user):
    make_user("bob", PW)
    guesser = limited.test_client()
    names = ["alice", "bob", "carol"]
    assert [_login(guesser, username=name).status_code for name in names] == [200] * 3
    assert _login(guesser, username="dave").status_code == 429


def test_distributed_guessing_of_one_account_is_bounded(limited):
    statuses = [_login(limited.test_client(), ip=f"198.18.0.{n}").status_code for n in range(20)]
    assert statuses == [200] * 3 + [429] * 17


def test_a_known_device_has_a_budget_of_its_own(limited):
    owner = _known_device(limited)
    # Three wrong passwords from the owner's own browser, then it waits; the
    # account's budget for unknown browsers is not spent by them.
    statuses = [_login(owner, ip=f"192.0.2.{n}").status_code for n in range(2, 6)]
    assert statuses == [200, 200, 200, 429]
    assert _login(limited.test_client(), password=PW, ip="198.51.100.9").status_code == 302


def test_a_device_cookie_of_one_account_does_not_help_guess_another(limited, make_user):
    make_user("mallory", PW)
    mallory = limited.test_client()
    assert _login(mallory, password=PW, username="mallory", ip="192.0.2.50").status_code == 302
    _strangers_spend_the_account_budget(limited)
    assert _login(mallory, ip="192.0.2.51").status_code == 429


def test_a_forged_device_cookie_counts_as_an_unknown_browser(limited):
    owner = _known_device(limited)
    cookie = owner.get_cookie(COOKIE, path="/auth/")
    forger = limited.test_client()
    forger.set_cookie(COOKIE, cookie.value[:-2] + "xx", path="/auth/")
    _strangers_spend_the_account_budget(limited)
    assert _login(forger, password=PW, ip="192.0.2.1").status_code == 429


def test_the_device_cookie_is_http_only_same_site_and_long_lived(limited):
    owner = limited.test_client()
    response = _login(owner, password=PW)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/auth/" in header
    assert f"Max-Age={365 * 86400}" in header


def test_a_device_cookie_older_than_its_lifetime_is_ignored(make_app, make_user, monkeypatch):
    import time

    make_user("alice", PW)
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute", DEVICE_COOKIE_DAYS=30)
    owner = app.test_client()
    assert _login(owner, password=PW, ip="192.0.2.1").status_code == 302
    owner.post("/auth/logout")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 31 * 86400)
    # The limiter's windows live in the same clock: a fresh budget, then spend it.
    _strangers_spend_the_account_budget(app)
    assert _login(owner, password=PW, ip="192.0.2.1").status_code == 429
