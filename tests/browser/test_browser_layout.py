"""The front page at phone and desktop widths: it fits, and screenshots are kept to look at."""

from __future__ import annotations

import pytest
from livesite import ARTIFACTS
from playwright.sync_api import expect

# Layout is the browser's and the stylesheet's: CI runs it once, on SQLite.
pytestmark = pytest.mark.db_independent

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
