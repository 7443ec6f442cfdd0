"""Browser tests: a live `flaskr serve` with its own database, driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livesite import ARTIFACTS, SEEDED_POSTS, LiveServer, start_server
from playwright.sync_api import expect
from smtp_inbox import Inbox, smtp_server

TIMEOUT_MS = 15_000
CHROMIUM = os.environ.get("FLASKR_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps trying to reach Google's services, which this
# machine's closed network refuses many times a second.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def smtp_inbox() -> Iterator[Inbox]:
    """The SMTP server the live server sends its mail to, and what it received."""
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, smtp_inbox: Inbox
) -> Iterator[LiveServer]:
    """One server for the whole session; each test makes its own user and posts. Its
    mail goes to smtp_inbox."""
    mail = {
        "FLASKR_MAIL_SMTP_HOST": "127.0.0.1",
        "FLASKR_MAIL_SMTP_PORT": str(smtp_inbox.port),
        "FLASKR_MAIL_SMTP_SECURITY": "none",
        "FLASKR_MAIL_FROM": "blog@example.com",
        "FLASKR_MAIL_POLL_SECONDS": "1",
    }
    yield from start_server(tmp_path_factory.mktemp("live"), settings=mail)


@pytest.fixture(scope="session")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server whose blog holds SEEDED_POSTS demo posts and nothing else."""
    yield from start_server(tmp_path_factory.mktemp("seeded"), seed_posts=SEEDED_POSTS)


# --- the browser -------------------------------------------------------------


@dataclass
class PageEvents:
    """What a page said besides its content: console messages, errors and dialogs."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    #: How to answer a dialog (a confirm() before deleting, say): OK, or Cancel.
    accept_dialogs: bool = False

    def console_errors(self) -> list[str]:
        """Console messages of type error or warning (CSP violations are reported there)."""
        return [m for m in self.console if m.startswith(("error:", "warning:"))]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium, shared by every test (each gets its own context)."""
    missing = None
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing = "playwright is not installed: pip install -e '.[test]'"
    if missing:
        if os.environ.get("FLASKR_CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context_options() -> dict[str, object]:
    """Options for each test's browser context; a test may override this fixture."""
    return {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def events() -> PageEvents:
    """Console messages, page errors and dialogs of this test's page."""
    return PageEvents()


@pytest.fixture
def page(
    browser: object,
    live_server: LiveServer,
    context_options: dict[str, object],
    events: PageEvents,
    request: pytest.FixtureRequest,
) -> Iterator[object]:
    """A fresh page (own cookies) on the live server; a screenshot is kept if the test fails."""
    context = browser.new_context(base_url=live_server.url, **context_options)
    # Generous waits: a loaded 2-core CI machine hashes passwords slowly. Time
    # only changes how long a failure takes to show, never whether it does.
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda msg: events.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: events.errors.append(str(error)))

    def on_dialog(dialog: object) -> None:
        events.dialogs.append(f"{dialog.type}: {dialog.message}")
        # Leaving a page that warns of unsaved changes: leave, as a test moves on.
        if events.accept_dialogs or dialog.type == "beforeunload":
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    report = getattr(request.node, "report_call", None)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    elif report is not None and report.passed and not os.environ.get("FLASKR_TEST_DATABASE_URL"):
        # Where each journey ended, at both widths, to look at (the SQLite run only:
        # the pages are the same on PostgreSQL).
        keep_last_screen(page, name)
    context.close()


#: The sizes every journey's last page is kept at: a phone and a desktop.
JOURNEY_SIZES = ((390, 844), (1280, 800))


def keep_last_screen(page: object, name: str) -> None:
    """Screenshots of the page a journey ended on, at each of JOURNEY_SIZES, under
    tests/artifacts/journeys/ (CI keeps the folder)."""
    from playwright.sync_api import Error

    if not page.url.startswith("http"):
        return  # the test drew its own page (set_content), not one of flaskr's
    folder = ARTIFACTS / "journeys"
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in JOURNEY_SIZES:
        try:
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(folder / f"{name}-{width}x{height}.png"))
        except Error:
            return  # a page still navigating: the test passed, the picture is a bonus


# --- acting as a user --------------------------------------------------------


class BrowserAuth:
    """Register, sign in and out through the pages, as a person would."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.username = f"reader-{uuid.uuid4().hex[:8]}"
        self.password = secrets.token_urlsafe(12)

    def register(self) -> None:
        """Create this test's account through the register form."""
        self.page.goto("/auth/register")
        self.page.get_by_label("Username").fill(self.username)
        self.page.get_by_label("Password").fill(self.password)
        self.page.get_by_role("button", name="Register").click()
        self.page.wait_for_url("**/auth/login")

    def login(self) -> None:
        """Sign in through the login form and land on the front page."""
        self.start_login()
        self.page.wait_for_url(re.compile(r"/$"))

    def start_login(self) -> None:
        """Fill in and send the login form (a second step may follow)."""
        self.page.goto("/auth/login")
        self.page.get_by_label("Username").fill(self.username)
        self.page.get_by_label("Password").fill(self.password)
        self.page.get_by_role("button", name="Log In").click()

    def add_email(self, address: str) -> None:
        """Give the account an address on the account page (confirmed by its mailed link)."""
        self.page.goto("/auth/account")
        self.page.get_by_label("New email address").fill(address)
        self.page.locator("#email_password").fill(self.password)
        self.page.get_by_role("button", name="Save email address").click()
        expect(self.page.get_by_text("We sent a link to the new address.")).to_be_visible()

    def logout(self) -> None:
        """Sign out with the header's POST form."""
        self.page.get_by_role("button", name="Log Out").click()
        self.page.wait_for_url(re.compile(r"/$"))


@pytest.fixture
def auth(page: object) -> BrowserAuth:
    """This test's account, acting through the browser page (not the test client)."""
    return BrowserAuth(page)


@pytest.fixture
def reader(page: object, live_server: LiveServer) -> Callable[[], str]:
    """Sign the page in as a new account with the reader role (made by the CLI); its name."""

    def sign_in() -> str:
        name, password = f"rita-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
        live_server.cli("create-user", name, "--password", password)
        live_server.cli("set-role", name, "reader")
        page.goto("/auth/login")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log In").click()
        page.wait_for_url(re.compile(r"/$"))
        return name

    return sign_in


@pytest.fixture
def write_post(page: object) -> Callable[[str, str], None]:
    """Write and publish a post through the editor; the page ends where saving leads."""

    def write(title: str, body: str) -> None:
        page.goto("/create")
        page.get_by_label("Title").fill(title)
        page.get_by_label("Body").fill(body)
        page.get_by_role("button", name="Publish", exact=True).click()
        page.wait_for_url(lambda url: not url.endswith("/create"))

    return write
