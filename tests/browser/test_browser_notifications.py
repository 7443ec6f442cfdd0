"""An author hears of a comment by email (a real SMTP server), and stops that kind of
email with the link in it, without logging in; the account page shows the choice.
A guest comments, confirms the address by the mailed link, and the author approves."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

LINK = re.compile(r"http://127\.0\.0\.1:\d+(/[a-z/-]+/[A-Za-z0-9_.-]+)")


def _links(message) -> list[str]:
    """The site-relative addresses in a message's plain text."""
    return LINK.findall(message.get_body(("plain",)).get_content())


def test_the_author_hears_of_a_comment_and_unsubscribes_with_one_click(
    page, auth, write_post, reader, smtp_inbox, events
):
    address = f"{auth.username}@example.com"
    auth.register()
    auth.login()
    auth.add_email(address)
    [confirm] = [link for link in _links(smtp_inbox.wait_for(address)) if "confirm" in link]
    page.goto(confirm)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    title = f"Mailed {uuid.uuid4().hex[:6]}"
    write_post(title, "Tell me by email.")
    post_url = page.url
    auth.logout()

    # A reader's first comment waits for approval: the author is mailed about it.
    reader()
    page.goto(post_url)
    page.get_by_label("Your comment").fill("Does this reach you?")
    page.wait_for_timeout(1100)  # COMMENTS_MIN_SECONDS on the live server
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".flash")).to_contain_text("waits for a moderator")
    page.get_by_role("button", name="Log Out").click()

    mail = smtp_inbox.wait_for(address, count=2)
    assert mail["Subject"] == f"A comment on “{title}” waits for your approval"
    assert "Does this reach you?" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(
        r"<http://127\.0\.0\.1:\d+(/unsubscribe/\S+)>", mail["List-Unsubscribe"]
    )
    assert unsubscribe and unsubscribe[1] in _links(mail)

    # Signed out, from the mail: one button, and that kind of email stops.
    page.goto(unsubscribe[1])
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{auth.username} gets no more emails when: A comment waits for my approval."
    )
    auth.login()
    page.goto("/auth/account#notifications")
    expect(page.get_by_label("A comment waits for my approval")).not_to_be_checked()
    expect(page.get_by_label("Someone comments on my post")).to_be_checked()
    # Switched back on from the account page, by keyboard.
    page.get_by_label("A comment waits for my approval").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save email choices").click()
    expect(page.locator(".flash")).to_have_text("Your email choices are saved.")
    expect(page.get_by_label("A comment waits for my approval")).to_be_checked()
    assert events.console_errors() == []


def test_a_guest_comments_confirms_by_mail_and_is_approved(
    browser, live_server, smtp_inbox, auth, write_post, page
):
    # The author writes a post; a visitor on a phone without JavaScript comments on it.
    auth.register()
    auth.login()
    title = f"Guests welcome {uuid.uuid4().hex[:6]}"
    write_post(title, "Anyone may answer.")
    post_url = page.url
    auth.logout()
    phone = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 800}
    )
    guest = phone.new_page()
    try:
        guest.goto(post_url)
        guest.get_by_role("link", name="Comment as a guest").click()
        address = f"gus-{uuid.uuid4().hex[:6]}@example.com"
        guest.get_by_label("Name").fill("Gus")
        guest.get_by_label("Email address").fill(address)
        guest.get_by_label("Your comment").fill("A visitor's *view*.")
        guest.wait_for_timeout(1100)  # COMMENTS_MIN_SECONDS on the live server
        guest.get_by_role("button", name="Post comment").click()
        expect(guest.locator(".flash")).to_contain_text(f"we sent a link to {address}")
        expect(guest.get_by_text("A visitor's view.")).to_have_count(0)
        [confirm] = [link for link in _links(smtp_inbox.wait_for(address)) if "confirm" in link]
        guest.goto(confirm)
        guest.get_by_role("button", name="Confirm").click()
        expect(guest.locator(".flash")).to_contain_text("waits for a moderator")
    finally:
        phone.close()
    # The author approves it from the queue; everyone sees it, marked as a guest's.
    auth.login()
    page.get_by_role("link", name="Comments", exact=True).click()
    waiting = page.locator(".queue-list > li").filter(has_text="A visitor's view.")
    expect(waiting).to_contain_text("First comment from this guest address")
    waiting.get_by_role("button", name="Approve").click()
    auth.logout()
    page.goto(post_url)
    shown = page.locator("article.comment").filter(has_text="A visitor's view.")
    expect(shown).to_contain_text("Gus (guest)")
    expect(shown.locator("em")).to_have_text("view")
