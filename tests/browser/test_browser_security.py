"""Stored script payloads stay text in the browser, and the CSP holds without violations."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

# Escaping, the sanitizer and the CSP are the same whatever database holds the post.
pytestmark = pytest.mark.db_independent

TITLE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
BODY = (
    "<script>window.__xss=3</script>\n\n"
    "<img src=x onerror=alert(document.domain)>\n\n"
    "[click me](javascript:window.__xss=4)"
)
PLAIN_BODY = (
    "Nothing *special*: a [link](https://example.org), `code` and\n\n"
    "```python\ndef greet(name):\n    return f'hello {name}'\n```\n"
)
# Collects violations in the page itself; Playwright injects this past the CSP.
WATCH_CSP = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def assert_nothing_ran(page, events) -> None:
    """No payload ran: no flag set, no dialog, no injected element, no CSP violation."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert events.dialogs == []
    expect(page.locator("article script")).to_have_count(0)
    expect(page.locator("img[onerror]")).to_have_count(0)
    expect(page.locator("a[href^='javascript:']")).to_have_count(0)
    assert page.evaluate("window.__csp") == []
    assert events.console_errors() == []
    assert events.errors == []


def test_stored_script_payloads_show_as_text_and_never_run(page, events, auth):
    """Title and body full of markup are shown literally on every page that shows them."""
    page.context.add_init_script(WATCH_CSP)
    auth.register()
    auth.login()
    page.goto("/create")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Body").fill(BODY)
    # With scripts on, the editor previews as you type: the payload is text there too.
    preview = page.locator("section").filter(has=page.get_by_role("heading", name="Preview"))
    expect(preview).to_contain_text("<script>window.__xss=3</script>")
    assert_nothing_ran(page, events)
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(lambda url: not url.endswith("/create"))

    page.goto("/")
    post = page.get_by_role("article").filter(has_text="window.__xss=1").first
    expect(post.get_by_role("heading")).to_have_text(TITLE)
    assert_nothing_ran(page, events)

    post.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(r"/\d+/"))
    article = page.get_by_role("article")
    expect(article.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert TITLE in page.title()
    expect(article).to_contain_text("<script>window.__xss=3</script>")
    expect(article).to_contain_text("<img src=x onerror=alert(document.domain)>")
    assert_nothing_ran(page, events)
    post_url = page.url

    article.get_by_role("link", name="Edit").click()
    # The editor puts the raw text back into the form, escaped in attributes too.
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    expect(page.get_by_label("Body")).to_have_value(BODY)
    assert_nothing_ran(page, events)

    # A comment made of the same payload is text under the post too.
    page.goto(post_url)
    page.get_by_label("Your comment").fill(BODY)
    page.wait_for_timeout(1100)  # COMMENTS_MIN_SECONDS on the live server: a person's pace
    page.get_by_role("button", name="Post comment", exact=True).click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    comment = page.locator("article.comment").filter(has_text="window.__xss=3")
    expect(comment).to_contain_text("<img src=x onerror=alert(document.domain)>")
    expect(comment.locator("script, img, a[href^='javascript:']")).to_have_count(0)
    assert_nothing_ran(page, events)


def test_every_page_sends_the_csp_and_breaks_none_of_it(page, events, auth, write_post):
    """Normal pages carry a strict CSP, and the browser reports no violation on any of them."""
    page.context.add_init_script(WATCH_CSP)
    visited = []

    def visit(path: str) -> None:
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert page.evaluate("window.__csp") == [], path
        visited.append(path)

    for path in ("/", "/auth/register", "/auth/login"):
        visit(path)
    auth.register()
    auth.login()
    title = f"Plain words {uuid.uuid4().hex[:6]}"
    write_post(title, PLAIN_BODY)
    page.goto("/")
    page.get_by_role("link", name=title).click()
    # Highlighted code is styled by classes from a stylesheet, not inline styles.
    expect(page.get_by_role("article").locator("pre span[class]").first).to_be_visible()
    for path in ("/", "/create", "/auth/account", page.url):
        visit(path)
    page.get_by_role("article").get_by_role("link", name="Edit").click()
    visit(page.url)
    for name in ("Tags", "My posts"):
        page.get_by_role("navigation", name="Site").get_by_role("link", name=name).click()
        visit(page.url)
    page.get_by_role("searchbox", name="Search").fill("plain")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()
    visit(page.url)

    # The stylesheet applied (a CSP that blocked it would leave default styles).
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0
    assert events.console_errors() == [], visited
    assert events.errors == []


def test_post_with_images_of_the_logout_address_keeps_the_reader_signed_in(
    page, auth, write_post, live_server
):
    """Images pointing at GET /auth/logout, in a post or made by a script, sign no one out."""
    auth.register()
    auth.login()
    write_post(
        f"Logout images {uuid.uuid4().hex[:6]}",
        f"![relative](/auth/logout)\n\n![absolute]({live_server.url}/auth/logout)\n",
    )
    page.reload(wait_until="networkidle")
    expect(page.locator("article img")).to_have_count(0)
    expect(page.get_by_role("article")).to_contain_text("relative")
    # Even an image the page itself loads from the address (Sec-Fetch-Dest: image).
    page.evaluate(
        "new Promise(done => { const img = new Image();"
        " img.onload = img.onerror = done; img.src = '/auth/logout'; })"
    )
    page.goto("/auth/account")
    expect(page).to_have_url(re.compile(r"/auth/account$"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    # Typing the address is a navigation: that still signs out, as in the tutorial.
    page.goto("/auth/logout")
    page.goto("/auth/account")
    expect(page).to_have_url(re.compile(r"/auth/login$"))
