"""Pictures as a person adds them: dropped into the editor with JavaScript, uploaded by
the plain form without it; then seen in the post (loaded, with its description and
srcset) and named in the feed."""

from __future__ import annotations

import base64
import io
import re
import uuid

from conftest import TIMEOUT_MS
from PIL import Image
from playwright.sync_api import expect


def _jpeg(size: tuple[int, int] = (1200, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def _check_post_shows_it(page, title: str, alt: str) -> str:
    """On the post's page: the picture has loaded, with its description and widths."""
    picture = page.locator("article .body img").first
    expect(picture).to_have_attribute("alt", alt)
    expect(picture).to_have_attribute("srcset", re.compile(r"/media/\S+-480\.webp 480w, "))
    expect(picture).to_have_attribute("width", "1200")
    # Loaded: served by flaskr with a type the browser decodes, and allowed by the CSP.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    return picture.get_attribute("src") or ""


def _check_feed_names_it(page, origin: str, src: str, alt: str) -> None:
    feed = page.request.get("/feed.atom").text()
    assert f'<link rel="enclosure" href="{origin.rstrip("/")}{src}"' in feed
    assert f'alt="{alt}"' in feed


def test_a_picture_dropped_into_the_editor_is_uploaded_and_shown(page, auth, events, live_server):
    auth.register()
    auth.login()
    page.goto("/create")
    title = f"Dropped picture {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill("Before the picture.")
    page.get_by_role("group", name="Add a picture").get_by_label("Description").fill("A red square")
    page.evaluate(
        """([data, name]) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
          const body = document.querySelector("#body");
          body.focus();
          body.setSelectionRange(body.value.length, body.value.length);
          const drop = { dataTransfer: transfer, bubbles: true, cancelable: true };
          body.dispatchEvent(new DragEvent("drop", drop));
        }""",
        [base64.b64encode(_jpeg()).decode(), "photo.jpg"],
    )
    expect(page.locator("#picture-status")).to_have_text("Picture added to the text.")
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(
            r"^Before the picture\.\n\n!\[A red square\]\(/media/[\w-]+-1200x800\.jpg\)\n\n$"
        )
    )
    # The live preview shows it as readers will.
    expect(page.locator("#preview img")).to_have_attribute("alt", "A red square")
    # A picture picked as the cover goes to the cover field, not the text.
    tools = page.get_by_role("group", name="Add a picture")
    tools.get_by_label("Description").fill("A wide cover")
    tools.get_by_label("Make it the cover picture").check()
    tools.get_by_label("Picture (or drop or paste one into the text)").set_input_files(
        {"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((1600, 600))}
    )
    expect(page.get_by_role("textbox", name="Cover picture")).to_have_value(
        re.compile(r"^!\[A wide cover\]\(/media/[\w-]+-1600x600\.jpg\)$")
    )
    expect(page.get_by_label("Body")).not_to_have_value(re.compile("A wide cover"))
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(r"/\d+/dropped-picture-"))
    expect(page.locator("figure.cover img")).to_have_attribute("alt", "A wide cover")
    _check_post_shows_it(page, title, "A red square")
    # The feed names the cover beside the content, which keeps both descriptions.
    cover_src = page.locator("figure.cover img").get_attribute("src") or ""
    _check_feed_names_it(page, live_server.url, cover_src, "A wide cover")
    assert 'alt="A red square"' in page.request.get("/feed.atom").text()
    assert not events.errors


def test_a_picture_uploaded_without_javascript_gives_markdown_to_paste(
    browser, page, auth, live_server
):
    auth.register()
    auth.login()
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        storage_state=page.context.storage_state(),
    )
    context.set_default_timeout(TIMEOUT_MS)
    plain = context.new_page()
    try:
        plain.goto("/create")
        # Without the script, the editor points to the pictures page.
        expect(plain.get_by_role("group", name="Add a picture")).to_be_hidden()
        # ... in a new tab, so the text typed so far stays where it is.
        link = plain.get_by_role("link", name="your pictures page")
        expect(link).to_have_attribute("target", "_blank")
        plain.goto(link.get_attribute("href") or "")
        plain.get_by_label("Picture", exact=True).set_input_files(
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}
        )
        plain.get_by_label("Description").fill("A red square, no script")
        plain.get_by_role("button", name="Upload").click()
        plain.wait_for_url("**/media/")
        expect(plain.locator(".flash")).to_contain_text("Paste this into a post to show it")
        markdown = plain.get_by_label("Markdown to paste into a post").first.input_value()
        assert re.fullmatch(
            r"!\[A red square, no script\]\(/media/[\w-]+-1200x800\.jpg\)", markdown
        )
        title = f"Pasted picture {uuid.uuid4().hex[:6]}"
        plain.goto("/create")
        plain.get_by_label("Title").fill(title)
        plain.get_by_label("Body").fill(f"Words.\n\n{markdown}")
        plain.get_by_role("button", name="Publish", exact=True).click()
        plain.wait_for_url(re.compile(r"/\d+/pasted-picture-"))
        src = _check_post_shows_it(plain, title, "A red square, no script")
        _check_feed_names_it(plain, live_server.url, src, "A red square, no script")
        # The library now says where it is shown.
        plain.goto("/media/")
        expect(plain.get_by_text("Shown in:").first).to_be_visible()
        expect(plain.get_by_role("link", name=title)).to_be_visible()
    finally:
        context.close()
