"""An admin in the browser: makes a reader an author, then disables them mid-session."""

from __future__ import annotations

import re

from conftest import BrowserAuth
from playwright.sync_api import expect


def test_an_admin_promotes_a_reader_and_disabling_ends_their_open_session(
    browser, page, auth, live_server, events
):
    # Ada, the admin, in this test's page; Walt, a new reader, in a browser of his own.
    auth.register()
    live_server.cli("set-role", auth.username, "admin")
    writer_context = browser.new_context(base_url=live_server.url)
    writer_page = writer_context.new_page()
    writer = BrowserAuth(writer_page)
    writer.register()
    live_server.cli("set-role", writer.username, "reader")
    writer.login()
    writer_page.goto("/create")
    expect(writer_page.get_by_role("heading", name="403 Forbidden")).to_be_visible()

    auth.login()
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Username starts with").fill(writer.username)
    page.get_by_role("button", name="Find").click()
    page.get_by_label(f"Role of {writer.username}").select_option("author")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator(".flash")).to_have_text(f"{writer.username} is now Author.")

    # From the writer's next request on, they may write.
    writer_page.goto("/create")
    expect(writer_page.get_by_label("Title")).to_be_visible()

    events.accept_dialogs = True  # "Disable ...? They are signed out everywhere at once."
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".flash")).to_have_text(
        f"{writer.username} is disabled and was signed out everywhere."
    )
    assert any(f"Disable {writer.username}?" in d for d in events.dialogs)
    # The writer's open session ends at once: the next page asks them to sign in.
    writer_page.goto("/create")
    expect(writer_page).to_have_url(re.compile(r"/auth/login$"))
    writer_page.get_by_label("Username").fill(writer.username)
    writer_page.get_by_label("Password").fill(writer.password)
    writer_page.get_by_role("button", name="Log In").click()
    expect(writer_page.get_by_text("This account is disabled.")).to_be_visible()

    page.get_by_role("link", name="Audit log").click()
    # Other tests share this server's log: the writer's own rows, named by their account.
    rows = page.get_by_role("row").filter(has_text=writer.username)
    expect(rows.filter(has_text="Account disabled")).to_have_count(1)
    expect(rows.filter(has_text="Role changed")).to_have_count(2)  # set-role, then the page
    writer_context.close()
