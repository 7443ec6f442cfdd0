"""The front page at phone and desktop widths: it fits, and screenshots are kept to look at."""

from __future__ import annotations

import pytest
from livesite import ARTIFACTS
from playwright.sync_api import expect

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture
def live_server(seeded_server):
    """The seeded blog, so the page shows a full front page."""
    return seeded_server


@pytest.fixture(params=sorted(WIDTHS))
def device(request):
    """The device this test runs as: its name and viewport."""
    return request.param


@pytest.fixture
def context_options(device):
    """The device's viewport."""
    width, height = WIDTHS[device]
    return {"viewport": {"width": width, "height": height}}


def fits_width(page) -> bool:
    """True when nothing sticks out sideways (no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_index_fits_the_screen_signed_out_and_in(page, auth, device):
    """No sideways scrolling on the front page or editor, before and after signing in."""
    page.goto("/")
    expect(page.get_by_role("article")).to_have_count(10)
    assert fits_width(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"index-{device}.png"))

    auth.register()
    auth.login()
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / f"index-{device}-signed-in.png"))
    page.goto("/create")
    assert fits_width(page)


def test_a_wide_table_scrolls_in_its_own_box_words_whole(page, auth, write_post, device):
    """A post's wide table neither widens the page nor breaks its words letter by letter."""
    auth.register()
    auth.login()
    header = "| " + " | ".join(f"Column{i}" for i in range(12)) + " |"
    rows = "| " + " | ".join(["---"] * 12) + " |\n| " + " | ".join(["unbreakable"] * 12) + " |"
    write_post("Wide table", f"{header}\n{rows}\n")
    assert fits_width(page)
    table = page.locator(".body table")
    expect(table).to_be_visible()
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # it scrolls itself
    cell = page.locator(".body td").first
    # One line high: the word was not broken up.
    assert cell.evaluate(
        "c => c.getClientRects().length === 1 && c.offsetHeight < 2.5 * parseFloat("
        "getComputedStyle(c).lineHeight || '20')"
    )
