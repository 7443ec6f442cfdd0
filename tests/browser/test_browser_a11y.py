"""axe-core (npm) finds no violation, of any impact, on any page type.

Every page type, signed in and out, in the light and the dark theme (as the device
says, and as chosen in the footer), at phone and desktop widths (each page
checked in all four where the journey stands).
axe is injected with page.evaluate (DevTools evaluation, which the page's strict
CSP does not govern), so the CSP stays as it is.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer
from livesite import ARTIFACTS
from PIL import Image
from playwright.sync_api import expect
from sample_post import BODY

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, from node_modules."""
    if not AXE.exists():
        message = "axe-core is missing: run `npm ci` in the repository (needs Node.js)"
        if os.environ.get("FLASKR_CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


#: (theme, width name): every page is checked in each.
VARIANTS = [(t, w) for t in ("light", "dark") for w in sorted(WIDTHS)]


@pytest.fixture(params=VARIANTS, ids=str)
def variant(request):
    """(theme, width name) a one-page test runs in."""
    return request.param


def show_as(page, variant: tuple[str, str]) -> None:
    """Show the page in the variant's colour scheme and viewport (no reload needed)."""
    theme, width = variant
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    page.emulate_media(color_scheme=theme)


def violations(page, axe_source: str) -> list[str]:
    """axe's violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} at `
                + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
        }"""
    )


class Checker:
    """Visits pages and collects axe's findings, named by page."""

    def __init__(self, page, axe_source: str) -> None:
        self.page = page
        self.axe_source = axe_source
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str, path: str | None = None, status: int = 200) -> None:
        """Open path (or stay) and run axe in every variant (light and dark, phone and
        desktop); keep a screenshot of each variant axe faults (tests/artifacts/).

        Only of those: 176 screenshots of passing pages were a sixth of this journey's
        time, and nobody looks at them (test_browser_layout keeps the index's)."""
        if path is not None:
            response = self.page.goto(path)
            assert response is not None and response.status == status, (name, path)
        self.checked.append(name)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for theme, width in VARIANTS:
            show_as(self.page, (theme, width))
            found = violations(self.page, self.axe_source)
            self.found += [f"{name} ({width}, {theme}): {line}" for line in found]
            if found:
                self.page.screenshot(path=str(ARTIFACTS / f"a11y-{name}-{width}-{theme}.png"))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 60, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.db_independent
def test_every_page_type_passes_axe(page, auth, axe_source, live_server):
    # One journey; each page is checked in every variant where it stands.
    checker = Checker(page, axe_source)
    tag = f"a11y{uuid.uuid4().hex[:8]}"
    checker.check("register", "/auth/register")
    auth.register()
    live_server.cli("set-role", auth.username, "admin")  # the admin area's pages too
    checker.check("login", "/auth/login")
    auth.login()

    page.goto("/create")
    page.get_by_label("Title").fill("Accessible post")
    page.get_by_label("Body").fill(BODY)
    page.get_by_label("Tags").fill(tag)
    checker.check("editor")
    # Preview is a form submission: axe runs on the page it brings, not the one it leaves.
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    checker.check("editor-preview")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(r"/\d+/accessible-post$"))
    post_path = "/" + page.url.split("/", 3)[3]
    post_id = post_path.split("/")[1]
    page.goto(f"/{post_id}/update")
    page.get_by_label("Body").fill(BODY + "\nA second version.")
    page.get_by_role("button", name="Update", exact=True).click()
    page.wait_for_url(re.compile(r"/\d+/accessible-post$"))

    checker.check("detail-signed-in", post_path)
    page.goto(post_path)
    page.get_by_label("Your comment").fill("A *first* comment, [with a link](https://example.org).")
    page.wait_for_timeout(1100)  # COMMENTS_MIN_SECONDS on the live server
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    page.locator("details.reply summary").first.click()
    page.get_by_label("Your reply").fill("A reply.")
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Reply", exact=True).click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    checker.check("detail-with-comments", post_path)
    page.goto(post_path)
    page.get_by_label("Your comment").fill("   ")  # passes the browser's check, not the server's
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("alert")).to_contain_text("Comment is required")
    checker.check("comment-with-errors")
    checker.check("comments-queue", "/comments/queue")
    checker.check("index-signed-in", "/")
    checker.check("update", f"/{post_id}/update")
    checker.check("revisions", f"/{post_id}/revisions")
    checker.check("revision", f"/{post_id}/revisions/1")
    checker.check("delete", f"/{post_id}/delete")
    checker.check("my-posts", "/me/posts")
    checker.check("account", "/auth/account")
    checker.check("two-factor-setup", "/auth/2fa/setup")
    checker.check("trash", "/me/trash/")
    page.goto("/media/")
    page.get_by_label("Picture", exact=True).set_input_files(
        {"name": "dot.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.get_by_label("Description").fill("A blue dot")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash")).to_contain_text("Paste this into a post")
    checker.check("media-library")  # with what was just uploaded, and the message
    checker.check("admin", "/admin/")
    checker.check("admin-users", f"/admin/users?q={auth.username}")
    checker.check("admin-audit", "/admin/audit")
    checker.check("admin-posts", f"/admin/posts?author={auth.username}")
    checker.check("admin-invites", "/admin/invites")
    page.get_by_role("button", name="Make an invitation").click()
    expect(page.get_by_role("textbox", name="Link")).to_be_visible()
    checker.check("admin-invite-made")
    checker.check("admin-settings", "/admin/settings")
    checker.check("admin-outbox", "/admin/outbox")
    other = f"other-{uuid.uuid4().hex[:8]}"
    live_server.cli("create-user", other, "--password", "a long enough pw")
    page.goto(f"/admin/users?q={other}")
    page.get_by_role("link", name="Delete").click()
    checker.check("admin-delete-user")
    page.goto("/create")
    page.get_by_label("Title").fill("   ")  # passes the browser's check, not the server's
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("alert").or_(page.locator(".flash"))).not_to_have_count(0)
    checker.check("editor-with-errors")

    page.goto("/")
    auth.logout()
    checker.check("index", "/")
    checker.check("detail", post_path)
    checker.check("comment-guest", f"/{post_id}/comments/guest")
    checker.check("tag", f"/tag/{tag}")
    checker.check("tags", "/tags")
    checker.check("profile", f"/u/{auth.username}")
    checker.check("search", "/search?q=paragraph")
    checker.check("search-nothing-found", "/search?q=zzzzqqqq")
    checker.check("search-comments", "/search?q=reply&in=comments")
    checker.check("not-found", "/no/such/page", status=404)
    checker.check("forgot-password", "/auth/forgot")
    checker.check("mailed-link-spent", "/auth/reset/made-up", status=400)
    # A notification's unsubscribe link, as the mail carries it (signed with the server's key).
    signer = URLSafeSerializer(live_server.env["FLASKR_SECRET_KEY"], salt="flaskr.unsubscribe")
    checker.check("unsubscribe", "/unsubscribe/" + signer.dumps([1, "comment-on-post"]))
    checker.check("archive", "/archive/")
    page.goto("/archive/")
    page.locator(".archive-months a").first.click()
    checker.check("archive-month")
    checker.check("archive-year", "/archive/" + page.url.split("/archive/")[1].split("/")[0] + "/")
    assert len(checker.checked) == 44
    assert not checker.found, "\n".join(checker.found)


MAILED_LINK = re.compile(r"http://127\.0\.0\.1:\d+(/auth/(?:confirm-email|reset)/[A-Za-z0-9_-]+)")


def _mailed_path(message) -> str:
    match = MAILED_LINK.search(message.get_body(("plain",)).get_content())
    assert match
    return match.group(1)


@pytest.mark.db_independent
def test_every_account_page_passes_axe(page, auth, axe_source, smtp_inbox):
    # The pages behind a mailed link or a second factor, in one journey.
    import pyotp

    checker = Checker(page, axe_source)
    address = f"{auth.username}@example.com"
    auth.register()
    auth.login()
    auth.add_email(address)
    expect(page.get_by_text("Waiting for confirmation")).to_be_visible()
    checker.check("account-email-waiting")
    checker.check("confirm-email", _mailed_path(smtp_inbox.wait_for(address)))
    page.get_by_role("button", name="Confirm").click()
    # The account page the confirmation lands on, loaded before axe looks at it (axe
    # run while the redirect was still loading found no document).
    expect(page.get_by_text("Your confirmed address")).to_be_visible()
    checker.check("account-email-confirmed")

    page.get_by_role("link", name="Set up two-factor login").click()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Password").fill(auth.password)
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    checker.check("two-factor-codes")
    checker.check("two-factor-on", "/auth/2fa/setup")
    auth.logout()

    auth.start_login()
    page.wait_for_url("**/auth/2fa")
    checker.check("two-factor-step")
    page.goto("/auth/forgot")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Send the link").click()
    checker.check("forgot-password-sent")
    checker.check("reset-password", _mailed_path(smtp_inbox.wait_for(address, count=2)))
    assert len(checker.checked) == 8
    assert not checker.found, "\n".join(checker.found)


@pytest.mark.db_independent
@pytest.mark.parametrize(("system", "chosen"), [("light", "dark"), ("dark", "light")])
def test_a_theme_chosen_in_the_footer_passes_axe_whatever_the_device_says(
    page, auth, axe_source, system, chosen
):
    # The cookie's theme (data-theme from the server), not the device's, on the pages
    # with the most colour: a post with code, the editor, a list.
    page.emulate_media(color_scheme=system)
    auth.register()
    auth.login()
    page.goto("/create")
    page.get_by_label("Title").fill("Themed post")
    page.get_by_label("Body").fill(BODY)
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(r"/\d+/themed-post$"))
    page.get_by_role("button", name=chosen.capitalize()).click()
    assert page.locator("html").get_attribute("data-theme") == chosen
    found = []
    for path in (page.url, "/create", "/"):
        page.goto(path)
        for width in sorted(WIDTHS):
            page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
            found += [f"{path} ({width}): {line}" for line in violations(page, axe_source)]
    assert not found, "\n".join(found)


@pytest.mark.db_independent
def test_the_plain_error_page_passes_axe(page, axe_source, make_plain_error_page, variant):
    # Shown without the layout (an untrusted Host, an outage): its own markup.
    show_as(page, variant)
    page.set_content(make_plain_error_page)
    found = violations(page, axe_source)
    assert not found, "\n".join(found)


@pytest.fixture
def make_plain_error_page(tmp_path) -> str:
    """The plain error page as flaskr sends it for an untrusted Host."""
    from flaskr import create_app

    database = str(tmp_path / "flaskr.sqlite")
    app = create_app({"TESTING": True, "TRUSTED_HOSTS": ["blog.example.org"], "DATABASE": database})
    response = app.test_client().get("/", headers={"Host": "evil.example.com"})
    assert response.status_code == 400
    return response.get_data(as_text=True)


@pytest.mark.db_independent
def test_axe_finds_what_it_should(page, axe_source):
    # A page with known faults: the checks above can fail.
    page.set_content('<html><body><img src="x.png"><input></body></html>')
    found = violations(page, axe_source)
    assert any(line.startswith("image-alt") for line in found)
    assert any(line.startswith("label") for line in found)
