"""Every page works with JavaScript off: plain forms and links are enough."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect


@pytest.fixture
def context_options():
    """A browser with JavaScript disabled."""
    return {"java_script_enabled": False, "viewport": {"width": 1280, "height": 800}}


def test_register_login_write_and_logout_without_javascript(page, auth, write_post):
    """Registering, signing in, writing a post and signing out need no script."""
    # Proof that scripts are really off in this browser.
    page.set_content(
        "<p id=probe>static</p><script>document.getElementById('probe').textContent='ran'</script>"
    )
    expect(page.locator("#probe")).to_have_text("static")

    auth.register()
    auth.login()
    expect(page.get_by_role("link", name=auth.username)).to_be_visible()
    # The editor's Preview is a submit button: the server renders it, no script needed.
    page.goto("/create")
    page.get_by_label("Title").fill("Preview first")
    page.get_by_label("Body").fill("Some *emphasis* here.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section").filter(has=page.get_by_role("heading", name="Preview"))
    expect(preview.locator("em")).to_have_text("emphasis")
    expect(page.get_by_label("Title")).to_have_value("Preview first")

    title = f"Written without script {uuid.uuid4().hex[:6]}"
    write_post(title, "Forms still post; links still go.")
    page.goto("/")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"/\d+/written-without-script-"))
    auth.logout()
    expect(page.get_by_role("link", name="Log In")).to_be_visible()
