"""A reader likes a post and takes the like back, with JavaScript and without."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect


@pytest.fixture(params=["js", "nojs"])
def context_options(request):
    """A browser with JavaScript on, then off."""
    return {
        "java_script_enabled": request.param == "js",
        "viewport": {"width": 1280, "height": 800},
    }


def test_a_reader_likes_and_unlikes_a_post(page, auth, write_post, reader, context_options):
    auth.register()
    auth.login()
    title = f"Likeable {uuid.uuid4().hex[:6]}"
    write_post(title, "A post worth a like.")
    post_url = page.url
    auth.logout()
    reader()  # someone else likes it: a reader, the least role that may
    page.goto(post_url)
    like = page.get_by_role("button", name="Like")
    count = page.locator("#likes-count")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(count).to_have_text("0 likes")

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.resource_type) if "/like" in r.url else None)
    like.click()
    expect(count).to_have_text("1 like")
    expect(like).to_have_attribute("aria-pressed", "true")
    like.click()
    expect(count).to_have_text("0 likes")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(count).to_have_text("1 like")

    if context_options["java_script_enabled"]:
        # In place: the page never left, the script sent the form with fetch.
        assert page.url == post_url
        assert set(requests) == {"fetch"}, requests
    else:
        # The plain form: a POST, then back to the post's likes.
        assert page.url.endswith("#likes"), page.url
        assert set(requests) == {"document"}, requests
    page.reload()
    expect(count).to_have_text("1 like")
    # Lists say it too.
    page.goto("/")
    article = page.locator("article").filter(has=page.get_by_role("link", name=title))
    expect(article.locator(".about")).to_contain_text(re.compile(r"1 like\b"))


@pytest.mark.parametrize("context_options", [{"java_script_enabled": True}], indirect=False)
def test_a_refused_like_is_said_in_place_and_sent_once(page, auth, write_post, context_options):
    auth.register()
    auth.login()
    write_post(f"Refused {uuid.uuid4().hex[:6]}", "The server will say no.")
    post_url = page.url
    sent: list[str] = []

    def refuse(route):
        sent.append(route.request.method)
        route.fulfill(status=429, content_type="text/html", body="<p>Too many</p>")

    page.route("**/like", refuse)
    like = page.get_by_role("button", name="Like")
    like.click()
    expect(page.locator("#likes-count")).to_have_text(
        "Your like could not be saved. Reload the page and try again."
    )
    assert sent == ["POST"]  # not sent again as a plain form
    assert page.url == post_url
    expect(like).to_be_focused()  # the keyboard stays where it was
    expect(like).to_have_attribute("aria-pressed", "false")
