"""A reader whose browser asks for German: the whole journey in German, and axe finds nothing.

Register, sign in, write and publish, read it back, in a browser whose
language is German (Playwright's `locale` sets Accept-Language), at phone and
desktop widths; screenshots of each page are kept in tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest
from livesite import ARTIFACTS
from playwright.sync_api import expect
from test_browser_a11y import WIDTHS, axe_source, violations  # noqa: F401 - a fixture

# Which language a page speaks is no database's doing: CI runs this once, on SQLite.
pytestmark = pytest.mark.db_independent


@pytest.fixture(params=sorted(WIDTHS))
def width(request) -> str:
    """The width name this test runs at."""
    return request.param


@pytest.fixture
def context_options(width):
    """A German-speaking browser at this width."""
    w, h = WIDTHS[width]
    return {"viewport": {"width": w, "height": h}, "locale": "de-DE"}


def test_a_german_reader_registers_writes_and_reads_in_german(
    page,
    auth,
    axe_source,  # noqa: F811 - the fixture imported above
    width,
):
    found: list[str] = []

    def check(name: str) -> None:
        found.extend(f"{name}: {line}" for line in violations(page, axe_source))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"de-{name}-{width}.png"), full_page=True)

    page.goto("/auth/register")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrieren")
    check("register")
    page.get_by_label("Benutzername").fill(auth.username)
    page.get_by_label("Passwort").fill(auth.password)
    page.get_by_role("button", name="Registrieren").click()
    page.wait_for_url("**/auth/login")
    expect(page.locator(".flash")).to_have_text("Konto angelegt. Du kannst dich jetzt anmelden.")
    check("login")
    page.get_by_label("Benutzername").fill(auth.username)
    page.get_by_label("Passwort").fill(auth.password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto("/create")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Beitrag")
    page.get_by_label("Titel").fill("Grüße aus Köln")
    page.locator("#body").fill("Ein **kurzer** Beitrag.\n\n<!--more-->\n\nMehr.")
    page.get_by_label("Sprache des Beitrags").select_option("de")
    page.get_by_role("button", name="Vorschau").click()
    check("editor-preview")
    page.get_by_role("button", name="Veröffentlichen").click()
    page.wait_for_url(re.compile(r"/\d+/[^/]+-aus-koln$"))
    expect(page.locator(".flash")).to_have_text("Veröffentlicht.")
    expect(page.locator(".about")).to_contain_text(re.compile(r"von \S+ am \d\d\.\d\d\.\d{4}"))
    check("detail")

    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name=re.compile("^Weiterlesen")).first).to_be_visible()
    check("index")
    assert not found, "\n".join(found)
