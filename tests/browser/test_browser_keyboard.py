"""The whole write-and-publish journey with the keyboard only: Tab, typing, Enter, Space."""

from __future__ import annotations

import re
import uuid

from livesite import ARTIFACTS
from playwright.sync_api import expect

#: The focused element: its tag, its accessible label (or text) and whether a focus ring shows.
FOCUSED = """() => {
    const e = document.activeElement;
    const label = e.getAttribute("aria-label")
        || (e.labels && e.labels.length ? e.labels[0].textContent : "")
        || e.textContent || e.value || "";
    const style = getComputedStyle(e);
    return [e.tagName.toLowerCase(), label.trim().replace(/\\s+/g, " "),
            style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0];
}"""


def tab_to(page, tag: str, label: str, limit: int = 80) -> None:
    """Press Tab until an element `tag` whose label starts with `label` has the focus."""
    seen = []
    page.wait_for_load_state()  # after an Enter that navigated: the new page, whole
    for _ in range(limit):
        page.keyboard.press("Tab")
        found_tag, found_label, ring = page.evaluate(FOCUSED)
        seen.append(f"{found_tag}:{found_label[:30]}")
        if found_tag == tag and found_label.startswith(label):
            # Whoever uses the keyboard must see where they are.
            assert ring, f"no visible focus ring on {tag} {label!r}"
            return
    raise AssertionError(f"Tab never reached {tag} {label!r}; it went: {seen}")


def send_account(page, name: str, password: str) -> None:
    """Type a username and password into the register or login form and send it."""
    tab_to(page, "input", "Username")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_register_sign_in_write_and_publish_by_keyboard(page):
    name = f"keys-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    page.goto("/")

    tab_to(page, "a", "Register")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/auth/register$"))
    send_account(page, name, password)
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    send_account(page, name, password)
    expect(page).to_have_url(re.compile(r"/$"))

    tab_to(page, "a", "My posts")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/me/posts$"))
    tab_to(page, "a", "New")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/create$"))

    title = f"Typed by hand {uuid.uuid4().hex[:6]}"
    tab_to(page, "input", "Title")
    page.keyboard.type(title)
    # The Markdown help opens with Space, and Tab goes on into the body.
    tab_to(page, "summary", "Markdown help")
    page.keyboard.press("Space")
    expect(page.get_by_text("where the excerpt in lists ends")).to_be_visible()
    tab_to(page, "textarea", "Body")
    page.keyboard.type("Written *without* a mouse.")
    tab_to(page, "button", "Publish")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "keyboard-editor.png"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/\d+/typed-by-hand-"))
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_role("article").locator("em")).to_have_text("without")

    page.goto("/")
    expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
