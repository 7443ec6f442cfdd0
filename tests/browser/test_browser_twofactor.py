"""Two-factor login in the browser: enrol by the key beside the QR code, log out, log in
with a code an authenticator app (pyotp) makes, then with a recovery code."""

from __future__ import annotations

import re
import time

import pyotp
from conftest import BrowserAuth
from playwright.sync_api import expect


def _next_step_code(secret: str) -> str:
    """The code of the next 30-second step (the current one was spent enrolling)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_then_log_in_with_a_code_and_with_a_recovery_code(page, auth: BrowserAuth, events):
    auth.register()
    auth.login()
    page.goto("/auth/account")
    page.get_by_role("link", name="Set up two-factor login").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Password").fill(auth.password)
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them").click()
    auth.logout()

    auth.start_login()
    page.wait_for_url("**/auth/2fa")
    page.get_by_label("Code from your authenticator app").fill(_next_step_code(secret))
    page.get_by_role("button", name="Log In").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Log Out")).to_be_visible()
    auth.logout()

    auth.start_login()
    page.wait_for_url("**/auth/2fa")
    page.get_by_label("Code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Log In").click()
    expect(page.get_by_text("You used a recovery code: 9 left.")).to_be_visible()
    expect(page.get_by_role("button", name="Log Out")).to_be_visible()
    assert events.console_errors() == []
