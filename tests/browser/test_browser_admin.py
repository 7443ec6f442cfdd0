"""An admin in the browser: invites a writer, who registers and writes; then disables them
mid-session."""

from __future__ import annotations

import re

from conftest import BrowserAuth
from playwright.sync_api import expect


def test_an_admin_invites_a_writer_and_disabling_ends_their_open_session(
    browser, page, auth, live_server, events
):
    # Ada, the admin, in this test's page; Walt, whom she invites, in a browser of his own.
    auth.register()
    live_server.cli("set-role", auth.username, "admin")
    auth.login()
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Role").select_option("reader")
    page.get_by_role("button", name="Make an invitation").click()
    link = page.get_by_role("textbox", name="Link").input_value()
    assert "/auth/register?invite=" in link

    writer_context = browser.new_context(base_url=live_server.url)
    writer_page = writer_context.new_page()
    writer = BrowserAuth(writer_page)
    writer_page.goto(link)
    writer_page.get_by_label("Username").fill(writer.username)
    writer_page.get_by_label("Password").fill(writer.password)
    writer_page.get_by_role("button", name="Register").click()
    writer_page.wait_for_url("**/auth/login")
    writer.login()
    writer_page.goto("/create")  # a reader, as the invitation said
    expect(writer_page.get_by_role("heading", name="403 Forbidden")).to_be_visible()
    # The link was for one person: it lets nobody else in.
    writer_page.goto(link)
    expect(writer_page.get_by_text("This invitation link cannot be used")).to_be_visible()

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Username starts with").fill(writer.username)
    page.get_by_role("button", name="Find").click()
    page.get_by_label(f"Role of {writer.username}").select_option("author")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator(".flash")).to_have_text(f"{writer.username} is now Author.")

    # From the writer's next request on, they may write.
    writer_page.goto("/create")
    writer_page.get_by_label("Title").fill("Invited and writing")
    writer_page.get_by_label("Body").fill("Hello.")
    writer_page.get_by_role("button", name="Publish", exact=True).click()
    writer_page.wait_for_url(re.compile(r"/\d+/invited-and-writing$"))

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
    expect(rows.filter(has_text="Role changed")).to_have_count(1)
    writer_context.close()
