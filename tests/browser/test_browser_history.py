"""A post's history and the trash, clicked through without JavaScript: see who saved
each version and what changed, restore one, delete the post and bring it back."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect


@pytest.fixture
def context_options():
    """A phone-sized browser with JavaScript off: every step is a plain form or link."""
    return {"java_script_enabled": False, "viewport": {"width": 390, "height": 844}}


def test_history_diff_restore_then_trash_and_back(page, auth):
    auth.register()
    auth.login()
    tag = uuid.uuid4().hex[:6]
    page.goto("/create")
    page.get_by_label("Title").fill(f"Harbour notes {tag}")
    page.get_by_label("Body").fill("The boats came in early.")
    page.get_by_role("button", name="Publish", exact=True).click()
    address = page.url
    for title in (f"Harbour news {tag}", f"Harbour diary {tag}"):
        page.get_by_role("article").get_by_role("link", name="Edit").click()
        page.get_by_label("Title").fill(title)
        page.get_by_role("button", name="Update", exact=True).click()
        expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()

    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_text(f"Now at version 3, saved by {auth.username}.")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Version 2")).to_contain_text(auth.username)
    rows.filter(has_text="Version 1").get_by_role("link", name="Compare").click()
    expect(page.locator("pre.diff del")).to_have_text(["notes"])
    expect(page.locator("pre.diff ins")).to_have_text(["diary"])
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_text("Version 1 restored as version 4.")).to_be_visible()

    page.goto(address)
    expect(page.get_by_role("heading", level=1, name=f"Harbour notes {tag}")).to_be_visible()
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Delete this post").click()
    page.get_by_role("button", name="Delete").click()
    assert page.goto(address).status == 404
    page.goto("/me/posts")
    page.get_by_role("link", name="Trash").click()
    page.get_by_role("row", name=f"Harbour notes {tag}").get_by_role(
        "button", name="Restore"
    ).click()
    expect(page.get_by_text(f'Restored "Harbour notes {tag}".')).to_be_visible()
    assert page.goto(address).status == 200  # the same address as before
    expect(page.get_by_role("heading", level=1, name=f"Harbour notes {tag}")).to_be_visible()
