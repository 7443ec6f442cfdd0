"""A reader comments and replies; the author clears the moderation queue; with JavaScript
and without (comments need none: plain forms, and <details> for the reply box)."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from playwright.sync_api import expect


@pytest.fixture(params=["js", "nojs"])
def context_options(request):
    """A browser with JavaScript on, then off; a phone-sized one without it."""
    nojs = request.param == "nojs"
    return {
        "java_script_enabled": not nojs,
        "viewport": {"width": 390, "height": 800} if nojs else {"width": 1280, "height": 800},
    }


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log In").click()
    page.wait_for_url(re.compile(r"/$"))


def _comment(page, label: str, text: str, button: str, within=None) -> None:
    """Write and send a comment with the form labelled `label` (in `within`, if given)."""
    form = within or page
    form.get_by_label(label).fill(text)
    page.wait_for_timeout(1100)  # COMMENTS_MIN_SECONDS on the live server: a person's pace
    form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))


def test_a_reader_comments_the_author_approves_and_the_reader_replies(
    page, auth, write_post, live_server
):
    auth.register()
    auth.login()
    title = f"Discussed {uuid.uuid4().hex[:6]}"
    write_post(title, "Tell me what you think.")
    post_url = page.url
    auth.logout()

    reader, password = f"rita-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
    live_server.cli("create-user", reader, "--password", password)
    live_server.cli("set-role", reader, "reader")
    page.goto(post_url)
    page.get_by_role("link", name="Log in to comment").click()
    page.get_by_label("Username").fill(reader)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log In").click()
    page.wait_for_url(re.compile(r"#comments$"))  # back at the post's comments
    _comment(page, "Your comment", "I think it is **good**.", "Post comment")
    expect(page.locator(".flash")).to_contain_text("waits for a moderator")
    mine = page.locator("article.comment").filter(has_text="I think it is good.")
    expect(mine).to_contain_text("Waiting for approval")
    expect(mine.locator("strong")).to_have_text("good")
    _comment(page, "Your comment", "And one more.", "Post comment")
    expect(page.locator("article.comment").filter(has_text="And one more.")).to_contain_text(
        "Waiting for approval"
    )
    page.get_by_role("button", name="Log Out").click()
    page.goto(post_url)
    expect(page.get_by_text("I think it is good.")).to_have_count(0)  # held: nobody else

    _sign_in(page, auth.username, auth.password)
    page.get_by_role("link", name="Comments", exact=True).click()
    expect(page.get_by_role("heading", name="Comments waiting for approval")).to_be_visible()
    waiting = page.locator(".queue-list > li").filter(has_text="I think it is good.")
    expect(waiting).to_contain_text("First comment")
    expect(page.locator(".queue-list > li")).to_have_count(2)
    # Both at once: tick them, then the bulk button.
    for box in page.locator(".queue-list input[type=checkbox]").all():
        box.check()
    page.locator("fieldset.bulk").get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_have_text("Approved: 2.")
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    page.get_by_role("button", name="Log Out").click()

    page.goto(post_url)
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
    expect(page.get_by_text("I think it is good.")).to_be_visible()

    _sign_in(page, reader, password)
    page.goto(post_url)
    first_reply = page.locator("details.reply").first
    first_reply.locator("summary").click()
    _comment(page, "Your reply", "And a second thought.", "Reply", within=first_reply)
    reply = page.locator("ol.replies article.comment")
    expect(reply).to_contain_text("And a second thought.")  # approved once: shown at once
    expect(reply).not_to_contain_text("Waiting for approval")
    page.goto("/")
    article = page.locator("article").filter(has=page.get_by_role("link", name=title))
    expect(article.locator(".about")).to_contain_text("3 comments")
