"""Mail in the browser: confirm an address, forget the password, reset it from the mail
that a real SMTP server received, and sign in with the new one."""

from __future__ import annotations

import re

from conftest import BrowserAuth
from playwright.sync_api import expect

LINK = re.compile(r"http://127\.0\.0\.1:\d+(/auth/(?:confirm-email|reset)/[A-Za-z0-9_-]+)")


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def test_a_reader_confirms_an_address_and_resets_a_forgotten_password(
    page, auth: BrowserAuth, smtp_inbox, events
):
    address = f"{auth.username}@example.com"
    auth.register()
    auth.login()
    auth.add_email(address)
    expect(page.get_by_text("Waiting for confirmation")).to_be_visible()

    page.goto(_link(smtp_inbox.wait_for(address)))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    expect(page.get_by_text(f"Your confirmed address: {address}")).to_be_visible()
    auth.logout()

    page.goto("/auth/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill(address.upper())
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("If an account has this confirmed address")).to_be_visible()

    mail = smtp_inbox.wait_for(address, count=2)
    assert mail["Subject"].startswith("Choose a new password")
    page.goto(_link(mail))
    expect(page.get_by_text(auth.username)).to_be_visible()
    auth.password = "a brand new passphrase"
    page.get_by_label("New password").fill(auth.password)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password has been changed. You can log in now.")).to_be_visible()
    auth.login()
    expect(page.get_by_role("button", name="Log Out")).to_be_visible()
    assert events.console_errors() == []
