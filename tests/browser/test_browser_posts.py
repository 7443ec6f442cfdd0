"""A new user's whole life with a post, through the real pages of a live server."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect


def test_new_user_registers_writes_edits_deletes_a_post_and_logs_out(page, events, auth):
    """Register, sign in, write, read, edit, delete and sign out, clicking as a person does."""
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Username").fill(auth.username)
    page.get_by_label("Password").fill(auth.password)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))

    auth.login()
    expect(page.get_by_role("link", name=auth.username)).to_be_visible()

    title = f"First light {uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="New", exact=True).click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill("The *harbor* was quiet this morning.")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("heading", name="New Post")).to_have_count(0)

    page.goto("/")
    post = page.get_by_role("article").filter(has=page.get_by_role("heading", name=title))
    expect(post).to_have_count(1)
    post.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"/\d+/first-light-"))
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    # Markdown is rendered: the emphasis is an element, not asterisks.
    expect(page.get_by_role("article").locator("em")).to_have_text("harbor")
    detail_url = page.url

    page.get_by_role("article").get_by_role("link", name="Edit").click()
    new_title = f"Second light {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(new_title)
    page.get_by_role("button", name="Update", exact=True).click()
    expect(page.get_by_role("heading", name="Edit")).to_have_count(0)
    page.goto("/")
    expect(page.get_by_role("heading", name=new_title)).to_be_visible()
    expect(page.get_by_role("heading", name=title)).to_have_count(0)

    page.get_by_role("link", name=new_title).click()
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Delete this post").click()
    expect(page.get_by_role("heading", name=f'Delete "{new_title}"?')).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name=new_title)).to_have_count(0)
    assert page.goto(detail_url).status == 404

    page.goto("/")
    auth.logout()
    expect(page.get_by_role("link", name="Log In")).to_be_visible()
    expect(page.get_by_role("link", name=auth.username)).to_have_count(0)
    page.goto("/create")
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def test_deleting_asks_first_and_cancel_keeps_the_post(page, events, auth, write_post):
    """Delete leads to a page that asks first (a page, so it works without scripts too);
    Cancel goes back to the editor and deletes nothing."""
    auth.register()
    auth.login()
    title = f"Keep me {uuid.uuid4().hex[:6]}"
    write_post(title, "Still here.")
    page.goto("/")
    page.get_by_role("link", name=title).click()
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Delete this post").click()
    expect(page.get_by_text("waits in your trash for 30 days")).to_be_visible()
    page.get_by_role("link", name="Cancel, keep the post").click()
    expect(page.get_by_label("Title")).to_have_value(title)
    assert events.dialogs == []
    page.goto("/")
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def test_other_users_see_the_post_but_no_edit_link(page, auth, write_post, browser, live_server):
    """A post is public; only its author is offered the Edit link."""
    auth.register()
    auth.login()
    title = f"Open letter {uuid.uuid4().hex[:6]}"
    write_post(title, "Anyone may read this.")

    context = browser.new_context(base_url=live_server.url)
    try:
        stranger = context.new_page()
        stranger.goto("/")
        post = stranger.get_by_role("article").filter(has_text=title)
        expect(post.get_by_role("heading", name=title)).to_be_visible()
        expect(post.get_by_role("link", name="Edit")).to_have_count(0)
    finally:
        context.close()


def test_the_editor_says_what_each_button_does_and_never_publishes_a_draft_by_save(page, auth):
    """A new post: "Save draft" keeps it private, "Publish" says "Schedule" while the
    time is ahead; the editor of a draft says it is one."""
    auth.register()
    auth.login()
    title = f"Quiet draft {uuid.uuid4().hex[:6]}"
    page.goto("/create")
    publish = page.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_be_visible()
    page.get_by_label("Publish at").fill("2999-01-01T10:00")
    expect(page.get_by_role("button", name="Schedule", exact=True)).to_be_visible()
    page.get_by_label("Publish at").fill("")
    expect(publish).to_be_visible()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill("Not yet.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved as a draft.", exact=True)).to_be_visible()
    expect(page.get_by_text("This post is a draft. Only you can see it.")).to_be_visible()
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    expect(page.get_by_text("Draft: only you can see it")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name=title)).to_have_count(0)


@pytest.mark.parametrize(
    "context_options",
    [{"viewport": {"width": 390, "height": 844}}, {"viewport": {"width": 1280, "height": 800}}],
    ids=["phone", "desktop"],
)
def test_a_wide_table_scrolls_in_its_own_box_words_whole(page, auth, write_post):
    """A post's wide table neither widens the page nor breaks its words letter by letter.
    (Here, not beside the layout tests: those share a seeded blog whose posts they count.)"""
    auth.register()
    auth.login()
    header = "| " + " | ".join(f"Column{i}" for i in range(12)) + " |"
    rows = "| " + " | ".join(["---"] * 12) + " |\n| " + " | ".join(["unbreakable"] * 12) + " |"
    write_post("Wide table", f"{header}\n{rows}\n")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table = page.locator(".body table")
    expect(table).to_be_visible()
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # it scrolls itself
    cell = page.locator(".body td").first
    # One line high: the word was not broken up.
    assert cell.evaluate(
        "c => c.getClientRects().length === 1 && c.offsetHeight < 2.5 * parseFloat("
        "getComputedStyle(c).lineHeight || '20')"
    )


def test_a_draft_saves_itself_while_the_author_types(page, events, auth):
    """The live server autosaves every second: the text survives a reload, and
    leaving after an autosave asks nothing."""
    auth.register()
    auth.login()
    title = f"Autosaved {uuid.uuid4().hex[:6]}"
    page.goto("/create")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill("First words.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_label("Body").fill("First words, and more typed later.")
    # The autosave line (a flash may be a status too).
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at")
    page.reload()
    expect(page.get_by_label("Body")).to_have_value("First words, and more typed later.")
    page.goto("/")
    assert not any(d.startswith("beforeunload") for d in events.dialogs)


def test_words_typed_before_the_script_runs_are_autosaved(page, auth):
    """The script loads after the page: what was typed before it ran is a change
    all the same, saved by itself (it once counted as what the server sent)."""
    held = []
    hold = {"on": False}

    def script(route):
        if hold["on"]:
            held.append(route)
        else:
            route.continue_()

    page.route("**/flaskr.js", script)
    auth.register()
    auth.login()
    page.goto("/create")
    page.get_by_label("Title").fill(f"Early {uuid.uuid4().hex[:6]}")
    page.get_by_label("Body").fill("Sent words.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()  # the draft's page has its script
    hold["on"] = True
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_label("Body").fill("Typed before the script came.")
    assert len(held) == 1
    hold["on"] = False
    held[0].continue_()
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at")
    page.reload()
    expect(page.get_by_label("Body")).to_have_value("Typed before the script came.")


def test_words_typed_before_the_script_runs_are_previewed(page, auth):
    """Markdown typed while the script was still on its way shows in the preview
    as soon as the script runs, not only after the next key."""
    held = []
    auth.register()
    auth.login()
    page.route("**/flaskr.js", lambda route: held.append(route))
    page.goto("/create", wait_until="commit")  # the held script holds the page's load
    page.get_by_label("Body").fill("Some *early* words")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("section#preview em")).to_have_text("early")


def test_leaving_the_editor_with_unsaved_changes_asks_first(page, events, auth):
    auth.register()
    auth.login()
    page.goto("/create")
    page.get_by_label("Title").click()
    page.keyboard.type("Not saved yet")
    page.get_by_role("link", name="Tags", exact=True).first.click()
    page.wait_for_url(re.compile(r"/tags$"))
    assert [d for d in events.dialogs if d.startswith("beforeunload")]
    # Saving is not leaving: no question then.
    events.dialogs.clear()
    page.goto("/create")
    page.get_by_label("Title").fill("Saved")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(lambda url: not url.endswith("/create"))
    assert events.dialogs == []
